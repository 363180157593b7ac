"""Each question becomes a redacted, tagged need; learners rate answers, see and delete what is kept about them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from connectors.cli.main import app
from kernel.errors import NotFound
from coach.messages import IncomingMessage
from coach.needs import needs_of
from tests.conftest import write_content

NO_LESSONS = {"lessons_done": [], "quiz_answers": {"right": 0, "wrong": 0}, "due_now": [], "next_review": None}


def test_questions_are_logged_redacted_tagged_and_rated(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    coach = container.coach
    coach.redactor.add_names(["Anna de Vries"])

    answered = coach.ask(IncomingMessage(learner_id="U1", text="Anna de Vries here (anna.devries@example.com, "
                                         "+31 6 1234 5678): how do I report a phishing e-mail?",
                                         channel="dm"))
    declined = coach.ask(IncomingMessage(learner_id="U1", text="What is the parking policy at the Tokyo office?"))
    assert answered.need_id and declined.need_id and declined.abstained

    logged = {n.id: n for n in needs_of(container.engine, "U1")}
    need = logged[answered.need_id]
    assert need.question == "<PERSON> here (<EMAIL>, <PHONE>): how do I report a phishing e-mail?"
    assert need.answered and need.channel == "dm" and need.sources and need.confidence > 0.5
    assert "information-security" in need.topics
    gap = logged[declined.need_id]
    assert not gap.answered and gap.sources == []  # a content gap for L&D

    coach.feedback(need_id=answered.need_id, learner_id="U1", helpful=True)
    assert {n.id: n.feedback for n in needs_of(container.engine, "U1")}[answered.need_id] == "helpful"
    with pytest.raises(NotFound):
        coach.feedback(need_id=answered.need_id, learner_id="someone-else", helpful=False)


def test_learners_see_and_delete_what_is_kept(tmp_path):
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(write_content(tmp_path / "content"))])
    runner.invoke(app, ["learners", "set", "U7", "--group", "managers", "--name", "Sam Jones"])
    asked = json.loads(runner.invoke(app, ["ask", "What is the merit budget?", "--as", "U7", "--json"]).stdout)
    runner.invoke(app, ["ask", "How do I report phishing?", "--as", "U8"])

    updated = runner.invoke(app, ["learners", "set", "U7", "--team", "Design", "--timezone", "Europe/London", "--pause"])
    assert "nudges paused" in updated.stdout
    assert runner.invoke(app, ["learners", "set", "U7", "--timezone", "Mars/Olympus"]).exit_code == 2
    kept = json.loads(runner.invoke(app, ["learners", "export", "U7"]).stdout)
    assert kept["profile"]["groups"] == ["managers"] and kept["profile"]["display_name"] == "Sam Jones"
    assert (kept["profile"]["team"], kept["profile"]["timezone"], kept["profile"]["paused"]) == ("Design", "Europe/London", True)
    assert [q["id"] for q in kept["questions"]] == [asked["need_id"]]

    result = runner.invoke(app, ["learners", "forget", "U7"])
    assert "Deleted 1 questions, 1 profile, 0 lesson records and 0 chat addresses" in result.stdout
    assert json.loads(runner.invoke(app, ["learners", "export", "U7"]).stdout) == {
        "learner_id": "U7", "profile": None, "questions": [], "reachable_in": [], "lessons": NO_LESSONS,
        "web_conversation": []}
    assert len(json.loads(runner.invoke(app, ["learners", "export", "U8"]).stdout)["questions"]) == 1


def test_learners_ask_in_chat_what_is_kept_and_to_be_forgotten(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    coach = container.coach
    from coach.learners import update_profile

    update_profile(container.engine, "U3", team="Finance", groups=["managers"])
    asked = coach.ask(IncomingMessage(learner_id="U3", text="How do I report phishing?"))

    kept = coach.ask(IncomingMessage(learner_id="U3", text="What do you know about me?"))
    assert kept.mode == "service" and "team: Finance" in kept.text and "How do I report phishing?" in kept.text
    assert "information-security" in kept.text and [a.kind for a in kept.actions] == ["forget"]
    assert [n.id for n in needs_of(container.engine, "U3")] == [asked.need_id]  # not logged as a question

    confirm = coach.ask(IncomingMessage(learner_id="U3", text="Forget me!"))
    assert "the 1 question I keep" in confirm.text and [a.kind for a in confirm.actions] == ["forget_confirm", "cancel"]
    assert coach.act("U3", "cancel").text.startswith("Cancelled") and needs_of(container.engine, "U3")
    done = coach.act("U3", "forget_confirm")
    assert "deleted your profile and 1 question." in done.text
    assert coach.export("U3") == {"learner_id": "U3", "profile": None, "questions": [], "reachable_in": [],
                                  "lessons": NO_LESSONS, "web_conversation": []}
    assert "nothing to forget" in coach.ask(IncomingMessage(learner_id="U3", text="delete my data")).text

    assert "resume" in coach.ask(IncomingMessage(learner_id="U4", text="pause")).text
    assert coach.export("U4")["profile"]["paused"] is True
    coach.act("U4", "resume")
    assert coach.export("U4")["profile"]["paused"] is False
    assert "forget me" in coach.ask(IncomingMessage(learner_id="U4", text="help")).text
    # a question that only mentions these words is still a question
    assert coach.ask(IncomingMessage(learner_id="U4", text="How do I stop a phishing attack?")).mode == "extractive"


def test_buttons_under_an_answer_reach_the_core(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    reply = container.coach.ask(IncomingMessage(learner_id="U5", text="How do I report phishing?"))
    helpful = next(a for a in reply.actions if a.kind == "helpful")
    assert helpful.value == reply.need_id
    container.coach.act("U5", helpful.kind, helpful.value)
    assert [n.feedback for n in needs_of(container.engine, "U5")] == ["helpful"]
    # the question is about information security: its experts in the competency framework, not the default
    assert container.coach.act("U5", "ask_human", reply.need_id).text.startswith(
        "For information security, ask #security-help")
    assert "the L&D team" in container.coach.act("U5", "ask_human", "").text  # no question to go by
    with pytest.raises(NotFound):
        container.coach.act("intruder", "not_helpful", reply.need_id)


def test_a_question_asked_in_a_channel_uses_everyone_content_and_the_rest_goes_privately(container, tmp_path):
    from coach.learners import update_profile

    container.knowledge.ingest([write_content(tmp_path / "content")])
    update_profile(container.engine, "M1", groups=["managers"])
    question = "What is the merit budget in the salary review?"
    reply = container.coach.ask(IncomingMessage(learner_id="M1", text=question, channel="channel", public=True))
    assert "3.5 percent" not in reply.text and all("salary" not in c.title.lower() for c in reply.citations)
    assert reply.private is not None and "3.5 percent" in reply.private.text
    assert reply.private.need_id == reply.need_id
    # someone outside the group gets no private part, and a direct message needs none
    assert container.coach.ask(IncomingMessage(learner_id="E1", text=question, public=True)).private is None
    assert container.coach.ask(IncomingMessage(learner_id="M1", text=question)).private is None


def test_learners_are_told_to_slow_down_past_the_rate_limit(container, tmp_path):
    from coach.rate_limit import RateLimiter

    from datetime import timedelta

    from coach import needs
    from kernel.store import utcnow

    container.knowledge.ingest([write_content(tmp_path / "content")])
    now = [0.0]
    asked_since = lambda learner, since: needs.asked_since(container.engine, learner, since)
    later = lambda: utcnow() + timedelta(seconds=now[0])
    container.coach.rate = RateLimiter(2, asked_since, clock=lambda: now[0], now=later)
    ask = lambda learner: container.coach.ask(IncomingMessage(learner_id=learner, text="How do I report phishing?"))
    assert [ask("U1").mode, ask("U1").mode, ask("U1").mode] == ["extractive", "extractive", "service"]
    assert "give me a minute" in ask("U1").text and ask("U2").mode == "extractive"
    assert len(needs_of(container.engine, "U1")) == 2  # what was refused is not logged
    # another replica (its own limiter, the same database) counts the same two questions
    replica = RateLimiter(2, asked_since, clock=lambda: now[0], now=later)
    assert not replica.allow("U1") and replica.allow("U2")
    now[0] = 61
    assert ask("U1").mode == "extractive"


def test_a_not_helpful_rating_keeps_a_redacted_note(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    reply = container.coach.ask(IncomingMessage(learner_id="U1", text="How do I report phishing?"))
    container.coach.feedback(need_id=reply.need_id, learner_id="U1", helpful=False,
                             note="It does not say what to do on mobile; mail me at jo@example.com")
    [need] = needs_of(container.engine, "U1")
    assert need.feedback == "not_helpful" and need.feedback_note == "It does not say what to do on mobile; mail me at <EMAIL>"


def test_what_is_kept_about_a_learner_is_never_answered_in_a_channel(container):
    container.coach.ask(IncomingMessage(learner_id="U9", text="How do I report phishing?"))
    reply = container.coach.ask(IncomingMessage(learner_id="U9", text="what do you know about me", public=True))
    assert "phishing" not in reply.text and "How do I report phishing?" in reply.private.text


def test_in_a_channel_shared_with_another_organisation_nothing_restricted_goes_out_even_privately(container, tmp_path):
    from coach.learners import update_profile
    from tests.integration.lesson_files import load_test_lessons

    container.knowledge.ingest([write_content(tmp_path / "content")])
    load_test_lessons(container, tmp_path)
    update_profile(container.engine, "M1", groups=["managers"])
    question = "What is the merit budget in the salary review?"
    shared = container.coach.ask(IncomingMessage(learner_id="M1", text=question, channel="channel", public=True,
                                                 shared=True))
    assert "3.5 percent" not in shared.text and shared.private is None  # not even to the manager, privately
    offered = [a.value for r in (shared, shared.private) if r for a in r.actions if a.kind == "lesson"]
    assert "merit-budget" not in offered  # a restricted lesson's title is restricted content too
    # a direct message from someone of another organisation: not public, still shared
    guest = container.coach.ask(IncomingMessage(learner_id="M1", text=question, channel="dm", shared=True))
    assert "3.5 percent" not in guest.text and "merit-budget" not in [a.value for a in guest.actions]
    # the same manager in a channel of their own organisation gets the fuller answer and the lesson privately
    own = container.coach.ask(IncomingMessage(learner_id="M1", text=question, channel="channel", public=True))
    assert own.private is not None and "3.5 percent" in own.private.text


class CountingEmbedder:
    """The real embedding model, counting what it is asked to embed."""

    def __init__(self, model) -> None:
        self.model, self.name, self.queries, self.passages = model, model.name, [], []

    def embed_query(self, text):
        self.queries.append(text)
        return self.model.embed_query(text)

    def embed_passages(self, texts):
        self.passages += list(texts)
        return self.model.embed_passages(texts)


def test_a_question_is_embedded_once_and_a_channel_question_searched_once_for_both_audiences(tmp_path, embedder):
    from coach.bootstrap import bootstrap
    from coach.learners import update_profile
    from tests.conftest import make_settings

    counting = CountingEmbedder(embedder)
    container = bootstrap(make_settings(tmp_path), embedder=counting)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    counting.queries.clear(), counting.passages.clear()
    reply = container.coach.ask(IncomingMessage(learner_id="E1", text="How do I report phishing?"))
    assert not reply.abstained
    assert counting.queries == ["How do I report phishing?"]  # by the search; the sentence scoring reuses it
    assert "How do I report phishing?" not in counting.passages

    update_profile(container.engine, "M1", groups=["managers"])
    counting.queries.clear()
    question = "What is the merit budget in the salary review?"
    reply = container.coach.ask(IncomingMessage(learner_id="M1", text=question, channel="channel", public=True))
    assert counting.queries == [question]  # one search over both audiences, split
    assert "3.5 percent" not in reply.text and "3.5 percent" in reply.private.text
