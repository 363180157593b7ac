"""Each branch of Coach.ask, fast: fakes at the ports (tests/unit/coach_rig.py), a real SQLite database.
Manager and self-service intents, the rate limit, declined, extractive and model answers, the model failing,
a channel question from a learner with audience groups, a shared conversation, and the point-of-need lesson."""

from __future__ import annotations

import pytest

from coach.answering import FALLBACK_NOTICE, FALLBACK_NOTICES, NOT_COVERED
from kernel.errors import ModelUnavailable, NotFound
from coach.learners import update_profile
from coach.messages import Action, IncomingMessage
from coach.needs import needs_of
from coach.rate_limit import SLOW_DOWN
from coach.self_service import ANSWERED_PRIVATELY, HELP
from kernel.store import session
from coach.store.models import ModelExchange
from sqlmodel import select
from tests.fakes.chat_model import FakeChatModel
from tests.integration.lesson_files import load_test_lessons
from tests.unit.coach_rig import SECRET, build

PHISHING_Q = "How do I report a phishing e-mail?"
MERIT_Q = "What is the merit budget in the salary review?"


@pytest.fixture
def with_model(template, tmp_path):
    built = build(template, tmp_path, model=FakeChatModel())
    yield built
    built.engine.dispose()


def ask(rig, text, learner="ana", **message):
    return rig.coach.ask(IncomingMessage(learner_id=learner, text=text, **message))


# --- what is not a question -------------------------------------------------------------------------------------

def test_a_managers_team_question_is_answered_from_the_needs_log_and_never_searched_or_logged(rig):
    update_profile(rig.engine, "mia", role="manager", team="Support")
    reply = ask(rig, "what does my team ask about?", learner="mia")
    assert reply.mode == "service" and "Support has fewer than 5 people" in reply.text  # aggregates only
    focus = ask(rig, "focus on information security", learner="mia")
    assert focus.mode == "service" and focus.text.startswith("Support now focuses on Information security")
    assert rig.retriever.searches == [] and needs_of(rig.engine, "mia") == []


def test_the_same_words_from_someone_who_manages_no_team_are_an_ordinary_question(rig):
    reply = ask(rig, "what does my team ask about?")
    assert reply.mode != "service" and len(rig.retriever.searches) >= 1
    assert [n.question for n in needs_of(rig.engine, "ana")] == ["what does my team ask about?"]


@pytest.mark.parametrize(("text", "expected"), [
    ("help", HELP),
    ("what do you know about me?", "I keep"),
    ("pause", "Paused:"),
    ("resume", "Welcome back"),
    ("forget me", "I keep nothing about you"),
    ("what should I learn next?", "No micro-lessons are published yet"),
    ("5 minute lessons", "5"),
])
def test_self_service_intents_are_answered_here_without_searching_or_logging_a_need(rig, text, expected):
    reply = ask(rig, text)
    assert reply.mode == "service" and expected in reply.text
    assert rig.retriever.searches == [] and needs_of(rig.engine, "ana") == []


def test_a_self_service_reply_asked_in_a_channel_goes_to_the_asker_alone(rig):
    reply = ask(rig, "what do you know about me?", channel="channel", public=True)
    assert reply.text == ANSWERED_PRIVATELY and reply.private is not None
    assert reply.private.actions == [Action("forget", "Forget me")]


def test_over_the_rate_limit_the_question_is_refused_before_anything_is_searched(template, tmp_path):
    rig = build(template, tmp_path, per_minute=2)
    assert ask(rig, PHISHING_Q).text != SLOW_DOWN and ask(rig, PHISHING_Q).text != SLOW_DOWN
    refused = ask(rig, PHISHING_Q)
    assert refused.text == SLOW_DOWN and refused.mode == "service"
    assert ask(rig, PHISHING_Q, learner="ben").text != SLOW_DOWN  # per learner
    assert len(needs_of(rig.engine, "ana")) == 2 and len(rig.retriever.searches) == 3
    assert ask(rig, "help").text == HELP  # what a learner says about themselves is never limited
    rig.engine.dispose()


def test_a_question_too_long_to_read_is_refused_in_the_learners_language_and_never_searched_or_logged(rig):
    pasted = "How do I report a phishing e-mail? " + "The e-mail said: please confirm your password. " * 60
    refused = ask(rig, pasted)
    assert refused.mode == "service" and "over 2000 characters" in refused.text and "shorter message" in refused.text
    dutch = ask(rig, "Hoe meld ik een phishingmail? " + "In de mail stond: bevestig je wachtwoord. " * 60)
    assert dutch.language == "nl" and "meer dan 2000 tekens" in dutch.text
    assert rig.retriever.searches == [] and needs_of(rig.engine, "ana") == []
    assert not ask(rig, PHISHING_Q).abstained  # a question of ordinary length is answered


# --- answers ----------------------------------------------------------------------------------------------------

def test_a_question_the_content_does_not_cover_is_declined_and_logged_as_a_gap(rig):
    reply = ask(rig, "How do I request parental leave?")
    assert reply.abstained and reply.text == NOT_COVERED and reply.citations == []
    assert [a.kind for a in reply.actions] == ["ask_human"]
    [need] = needs_of(rig.engine, "ana")
    assert not need.answered and need.sources == [] and reply.need_id == need.id


def test_without_a_model_the_best_sentences_are_quoted_with_citations(rig):
    reply = ask(rig, PHISHING_Q, platform="slack", channel="dm")
    assert reply.mode == "extractive" and not reply.abstained
    assert "Report button in Outlook" in reply.text and "[1]" in reply.text
    assert [c.title for c in reply.cited] == ["How to report phishing"]
    assert [a.kind for a in reply.actions] == ["helpful", "not_helpful", "ask_human"]
    [need] = needs_of(rig.engine, "ana")
    assert all(a.value == need.id for a in reply.actions) and reply.need_id == need.id
    assert need.answered and need.platform == "slack" and "information-security" in need.topics
    assert need.sources == ["how-to-report-phishing"]
    [search] = rig.retriever.searches
    assert search.query == PHISHING_Q and search.groups == ()


def test_personal_data_is_redacted_before_searching_and_logging(rig):
    ask(rig, "Anna de Vries says I must report phishing e-mail to anna@acme.nl, right?")
    [search] = rig.retriever.searches
    assert "anna" not in search.query.lower() and "<" not in search.query  # placeholders are not searched
    [need] = needs_of(rig.engine, "ana")
    assert need.question == "<PERSON> says I must report phishing e-mail to <EMAIL>, right?"


def test_a_model_writes_the_answer_from_the_passages_and_it_streams(with_model):
    with_model.model.enqueue("Use the Report button in Outlook and forward it to security@example.com [1].")
    partials = []
    reply = with_model.coach.ask(IncomingMessage(learner_id="ana", text=PHISHING_Q), on_partial=partials.append)
    assert reply.mode == "generated" and reply.text.endswith("[1].")
    assert [c.title for c in reply.citations] == ["How to report phishing"]
    assert partials[0] == "Use" and partials[-1] == reply.text
    [prompt] = with_model.model.history
    assert prompt.user == PHISHING_Q and "Report button in Outlook" in prompt.system and prompt.streamed
    assert SECRET not in prompt.system  # the model sees only what the learner may see
    assert needs_of(with_model.engine, "ana")[0].answered


def test_a_model_that_says_the_passages_do_not_answer_it_makes_a_declined_reply(with_model):
    with_model.model.enqueue("NOT_COVERED")
    reply = ask(with_model, PHISHING_Q)
    assert reply.abstained and reply.text == NOT_COVERED
    assert not needs_of(with_model.engine, "ana")[0].answered


@pytest.mark.parametrize(("failure", "notice"), [
    (ModelUnavailable("timed out"), FALLBACK_NOTICE),
    (ModelUnavailable("slow", outcome="budget"), FALLBACK_NOTICES["budget"]),
    ("Call them [9].", FALLBACK_NOTICES["checked"]),
], ids=["unavailable", "budget", "malformed"])
def test_when_the_model_fails_the_extractive_answer_comes_with_a_notice_that_says_why(with_model, failure, notice):
    with_model.model.enqueue(failure)
    reply = ask(with_model, PHISHING_Q)
    assert reply.mode == "extractive" and reply.notice == notice
    assert "Report button in Outlook" in reply.text and reply.cited
    with session(with_model.engine) as db:
        outcomes = db.exec(select(ModelExchange.outcome)).all()
    assert outcomes == [failure.outcome if isinstance(failure, Exception) else "malformed"]


def test_a_declined_retrieval_never_asks_the_model(with_model):
    assert ask(with_model, "How do I request parental leave?").abstained
    assert with_model.model.history == []


# --- audiences --------------------------------------------------------------------------------------------------

def test_in_a_channel_a_learner_with_groups_gets_the_restricted_answer_privately(rig):
    update_profile(rig.engine, "mia", groups=["managers"])
    reply = ask(rig, MERIT_Q, learner="mia", channel="channel", public=True)
    assert SECRET not in reply.text and all(c.title != "Salary review for managers" for c in reply.citations)
    assert reply.private is not None and SECRET in reply.private.text
    assert "Salary review for managers" in [c.title for c in reply.private.cited]
    assert [s.groups for s in rig.retriever.searches] == [("managers",)]  # searched once, split by audience
    [need] = needs_of(rig.engine, "mia")
    assert "salary-review-for-managers" in need.sources and reply.private.need_id == need.id


def test_in_a_channel_with_a_model_only_the_answer_the_channel_reads_is_written(with_model):
    update_profile(with_model.engine, "mia", groups=["managers"])
    for _ in range(2):  # a second call would be answered too
        with_model.model.enqueue("Managers split the merit budget across their team before March [1].")
    reply = ask(with_model, MERIT_Q, learner="mia", channel="channel", public=True)
    assert SECRET not in reply.text
    assert reply.private is not None and SECRET in reply.private.text and reply.private.mode == "extractive"
    # the model writes the channel's answer (when the everyone content answers at all), never a second one
    assert len(with_model.model.history) == (0 if reply.abstained else 1)


def test_in_a_dm_a_learner_with_groups_gets_the_restricted_answer_directly(rig):
    update_profile(rig.engine, "mia", groups=["managers"])
    reply = ask(rig, MERIT_Q, learner="mia")
    assert SECRET in reply.text and reply.private is None
    assert rig.retriever.searches[0].groups == ("managers",)


def test_in_a_channel_someone_without_groups_gets_everyone_content_only(rig):
    reply = ask(rig, MERIT_Q, channel="channel", public=True)
    assert SECRET not in reply.text and (reply.private is None or SECRET not in reply.private.text)
    assert all(s.groups == () for s in rig.retriever.searches)


@pytest.mark.parametrize("public", [True, False], ids=["channel", "dm"])
def test_in_a_shared_conversation_nothing_restricted_is_searched_or_sent(rig, public):
    update_profile(rig.engine, "mia", groups=["managers"])
    reply = ask(rig, MERIT_Q, learner="mia", channel="channel" if public else "dm", public=public, shared=True)
    shown = reply.text + (reply.private.text if reply.private else "")
    assert SECRET not in shown
    assert rig.retriever.searches and all(s.groups == () for s in rig.retriever.searches)


# --- the lesson at the point of need -----------------------------------------------------------------------------

def test_an_answer_offers_the_micro_lesson_on_its_topic(rig, tmp_path):
    load_test_lessons(rig.container, tmp_path)
    reply = ask(rig, PHISHING_Q)
    [lesson] = [a for a in reply.actions if a.kind == "lesson"]
    assert lesson == Action("lesson", "Micro-lesson: Report phishing fast", "report-phishing")
    assert reply.private is None


def test_in_a_channel_the_lesson_is_offered_privately(rig, tmp_path):
    load_test_lessons(rig.container, tmp_path)
    reply = ask(rig, PHISHING_Q, channel="channel", public=True)
    assert all(a.kind != "lesson" for a in reply.actions)
    assert reply.private.text == "A micro-lesson on this, for you:"
    assert [a.value for a in reply.private.actions] == ["report-phishing"]


def test_in_a_shared_channel_a_restricted_lesson_is_not_offered(rig, tmp_path):
    load_test_lessons(rig.container, tmp_path)
    update_profile(rig.engine, "mia", groups=["managers"])
    reply = ask(rig, MERIT_Q, learner="mia", channel="channel", public=True, shared=True)
    offered = [a.value for a in reply.actions + (reply.private.actions if reply.private else []) if a.kind == "lesson"]
    assert "merit-budget" not in offered
    in_dm = ask(rig, "How do I split the merit budget in the salary review?", learner="mia")
    assert "merit-budget" in [a.value for a in in_dm.actions if a.kind == "lesson"]


def test_asking_about_one_topic_again_and_again_offers_a_person(rig):
    questions = [PHISHING_Q, "Where do I report phishing?", "phishing: which button do I use in Outlook?"]
    texts = [ask(rig, q).text for q in questions]
    assert not any("seems tricky" in t for t in texts[:-1])
    assert "This one seems tricky: for information security" in texts[-1]  # the third one, with who can help


# --- Coach.act: the buttons under a reply -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["helpful", "not_helpful"])
def test_rating_an_answer_records_it_on_the_need(rig, kind):
    need_id = ask(rig, PHISHING_Q).need_id
    reply = rig.coach.act("ana", kind, need_id)
    assert reply.mode == "service" and reply.text.startswith("Thanks")
    assert [n.feedback for n in needs_of(rig.engine, "ana")] == [kind]


def test_only_the_asker_can_rate_an_answer(rig):
    need_id = ask(rig, PHISHING_Q).need_id
    with pytest.raises(NotFound):
        rig.coach.act("ben", "helpful", need_id)
    assert [n.feedback for n in needs_of(rig.engine, "ana")] == [None]


def test_forget_asks_first_and_forget_confirm_deletes_everything(rig):
    ask(rig, PHISHING_Q)
    asked = rig.coach.act("ana", "forget")
    assert [a.kind for a in asked.actions] == ["forget_confirm", "cancel"] and needs_of(rig.engine, "ana")
    assert rig.coach.act("ana", "cancel").text == "Cancelled: nothing was changed."
    assert len(needs_of(rig.engine, "ana")) == 1
    done = rig.coach.act("ana", "forget_confirm")
    assert done.text.startswith("Done: I deleted your profile and 1 question.")
    assert needs_of(rig.engine, "ana") == []


def test_pause_resume_and_export_buttons(rig):
    assert rig.coach.act("ana", "pause").text.startswith("Paused:")
    assert rig.coach.export("ana")["profile"]["paused"] is True
    assert rig.coach.act("ana", "resume").text.startswith("Welcome back")
    assert rig.coach.export("ana")["profile"]["paused"] is False
    ask(rig, PHISHING_Q)
    assert PHISHING_Q in rig.coach.act("ana", "export").text


def test_ask_a_human_names_the_contact(rig):
    reply = rig.coach.act("ana", "ask_human", "need-1")
    assert reply.mode == "service" and "ask Priya in L&D" in reply.text


def test_a_lesson_starts_and_its_quiz_is_answered(rig, tmp_path):
    load_test_lessons(rig.container, tmp_path)
    lesson = rig.coach.act("ana", "lesson", "report-phishing")
    assert lesson.text.startswith("**Report phishing fast** (2 min)") and "**Quick check:**" in lesson.text
    answers = [a for a in lesson.actions if a.kind == "answer"]
    assert [a.value for a in answers] == ["report-phishing:0", "report-phishing:1", "report-phishing:2"]
    right = rig.coach.act("ana", "answer", "report-phishing:0")  # the files' `answer: 1`, counted from one
    assert "Yes, that is how it works." in right.text
    wrong = rig.coach.act("ana", "answer", "report-phishing:1")
    assert wrong.text.startswith("Not quite: the answer is **A**.")
    with pytest.raises(ValueError, match="not one of the lesson's options"):
        rig.coach.act("ana", "answer", "report-phishing:7")


def test_a_lesson_outside_the_learners_audience_is_not_found(rig, tmp_path):
    load_test_lessons(rig.container, tmp_path)
    with pytest.raises(NotFound):
        rig.coach.act("ana", "lesson", "merit-budget")


def test_an_unknown_action_is_refused(rig):
    with pytest.raises(ValueError, match="unknown action 'explode'"):
        rig.coach.act("ana", "explode", "x")


def test_ask_a_person_names_who_knows_the_questions_competency_and_how_to_reach_them(rig):
    answered = ask(rig, PHISHING_Q)  # tagged information-security, whose experts the framework names
    reply = rig.coach.act("ana", "ask_human", answered.need_id)
    assert reply.text.startswith("For information security, ask #security-help or "
                                 "[security@northwindloom.example](mailto:security@northwindloom.example)")
    assert rig.coach.act("bob", "ask_human", answered.need_id).text.startswith(  # not bob's question
        "For a person who knows this, ask Priya in L&D.")


def test_the_human_contact_setting_names_a_person_per_competency_and_per_audience(template, tmp_path):
    from coach.contacts import Contacts
    from coach.learners import update_profile as profile
    from kernel.errors import ConfigError

    contacts = Contacts.parse("learning@acme.example; information-security=Sam (CISO office); managers=Your HRBP")
    assert contacts.default == "learning@acme.example"
    assert contacts.find(["information-security"], [], lambda c: ("#security-help",)) == \
        ("information-security", "Sam (CISO office)")  # the setting wins over the framework's experts
    assert contacts.find([], ["Managers"], lambda c: ()) == ("", "Your HRBP")
    assert contacts.find(["expenses"], ["everyone"], lambda c: ()) == ("", "")
    with pytest.raises(ConfigError, match="two contacts without a key"):
        Contacts.parse("a@acme.example; b@acme.example")
    rig = build(template, tmp_path)
    rig.coach.contacts = contacts
    profile(rig.engine, "mia", groups=["managers"])
    assert rig.coach.act("mia", "ask_human", "").text.startswith("For a person who knows this, ask Your HRBP.")
    assert rig.coach.act("ana", "ask_human", "").text.startswith(
        "For a person who knows this, ask [learning@acme.example](mailto:learning@acme.example).")
    rig.engine.dispose()
