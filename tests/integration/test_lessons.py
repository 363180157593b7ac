"""Micro-lessons through the core and the CLI: authored lessons loaded, suggested with a reason, taught, graded,
reviewed on the learner's working days; point-of-need offers; stuck detection; drafts and audiences respected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from connectors.cli.main import app
from kernel.errors import NotFound
from coach.learners import update_profile
from coach.lessons import catalog
from coach.messages import IncomingMessage
from kernel.store import session, utcnow
from coach.store.models import LessonAttempt, LessonOffer, ReviewCard, ReviewLogEntry, TeamFocus, TopicFlag
from tests.conftest import write_content
from tests.integration.lesson_files import lesson_file, load_test_lessons, write_lessons

FRIDAY_AFTERNOON = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # 16:30 in Amsterdam


@pytest.fixture
def coach(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    load_test_lessons(container, tmp_path)
    container.coach.lessons.clock = lambda: FRIDAY_AFTERNOON
    update_profile(container.engine, "sam", timezone="Europe/Amsterdam", team="Support")
    return container.coach


def ask(coach, text: str, learner: str = "sam", public: bool = False):
    return coach.ask(IncomingMessage(learner_id=learner, text=text, public=public,
                                     channel="channel" if public else "dm"))


def test_a_lesson_is_taught_graded_and_reviewed_on_a_working_day(coach, container):
    lesson = coach.act("sam", "lesson", "report-phishing")
    assert "Report phishing fast" in lesson.text and "**Quick check:**" in lesson.text
    assert [(a.kind, a.value) for a in lesson.actions] == [("answer", f"report-phishing:{i}") for i in range(3)]
    assert [c.title for c in lesson.citations] == ["How to report phishing"]  # where the lesson comes from

    graded = coach.act("sam", "answer", "report-phishing:0")
    assert graded.text.startswith("Right! Yes, that is how it works.")
    assert "**Why:** The first way" in graded.text
    assert "review on Monday 30 November" in graded.text  # not Saturday: Sam works Monday to Friday
    with session(container.engine) as db:
        card = db.get(ReviewCard, ("sam", "report-phishing"))
        [log] = db.exec(select(ReviewLogEntry)).all()
    due = card.due.replace(tzinfo=UTC) if card.due.tzinfo is None else card.due
    assert due == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 9:00 in Amsterdam, inside Sam's hours
    assert card.card["stability"] > 0 and log.rating == 3  # Good

    wrong = coach.act("sam", "answer", "report-phishing:2")
    assert wrong.text.startswith("Not quite: the answer is **A**. No, that is the old process.")
    with session(container.engine) as db:
        assert [a.correct for a in db.exec(select(LessonAttempt)).all()] == [True, False]
        assert [entry.rating for entry in db.exec(select(ReviewLogEntry)).all()] == [3, 1]  # Good, Again

    with pytest.raises(ValueError):
        coach.act("sam", "answer", "report-phishing:7")


def test_suggestions_follow_the_learners_needs_and_team_focus_and_say_why(coach, container):
    colleague = ask(coach, "what should I learn next?", learner="new-colleague")  # nothing to go on yet
    assert "(2 min): a short one to start with" in colleague.text and len(colleague.actions) == 3
    for question in ("How do I report a phishing e-mail?", "Who gets phishing reports?"):
        ask(coach, question)
    with session(container.engine) as db:
        db.add(TeamFocus(team="Support", competencies=["customer-service"]))
        db.commit()

    suggested = ask(coach, "what should I learn next?")
    assert suggested.text.splitlines()[1].startswith("1. **Report phishing fast** (2 min): because you asked "
                                                     "about information security twice recently")
    assert "Handle a complaint" in suggested.text and "Customer conversations is a focus of your team" in suggested.text
    assert [a.value for a in suggested.actions][:2] == ["report-phishing", "customer-complaints"]
    assert "merit" not in suggested.text.lower()  # a managers' lesson, and Sam is no manager

    coach.act("sam", "answer", "report-phishing:0")  # done, and not due again yet: no longer suggested
    assert "Report phishing fast" not in ask(coach, "what should I learn next?").text
    coach.lessons.clock = lambda: FRIDAY_AFTERNOON + timedelta(days=10)
    assert "due for review: you last practised it 10 days ago" in ask(coach, "what should I learn next?").text


def test_an_answer_offers_the_lesson_on_its_topic_privately_in_a_channel(coach):
    reply = ask(coach, "How do I report a phishing e-mail?")
    [offer] = [a for a in reply.actions if a.kind == "lesson"]
    assert offer.value == "report-phishing" and offer.label == "Micro-lesson: Report phishing fast"
    assert [a.kind for a in reply.actions if a.kind in ("helpful", "not_helpful")] == ["helpful", "not_helpful"]

    public = ask(coach, "How do I report a phishing e-mail?", learner="eli", public=True)
    assert all(a.kind != "lesson" for a in public.actions)
    assert [a.value for a in public.private.actions if a.kind == "lesson"] == ["report-phishing"]


def test_stuck_learners_are_offered_a_person_and_the_topic_is_flagged_for_ld(coach, container):
    coach.lessons.clock = utcnow  # the needs log stamps questions with the real time
    replies = [ask(coach, q) for q in ("How do I report phishing?", "Phishing: who do I tell?",
                                       "What counts as phishing?")]
    assert "#security-help" not in replies[1].text
    assert "#security-help" in replies[2].text and "without your name" in replies[2].text
    coach.act("sam", "answer", "training-budget:1")
    second_miss = coach.act("sam", "answer", "training-budget:2")
    assert "the L&D team can help you in person" in second_miss.text  # no experts listed: the human contact
    assert any(a.kind == "ask_human" for a in second_miss.actions)
    with session(container.engine) as db:
        flags = [(f.competency, f.reason) for f in db.exec(select(TopicFlag)).all()]
    assert flags == [("information-security", "repeated_questions"), ("learning-and-development", "repeated_wrong_answers")]


def test_drafts_and_other_audiences_never_reach_a_learner(coach, container):
    catalog.set_status(container.engine, "customer-complaints", "draft")
    with pytest.raises(NotFound):
        coach.act("sam", "lesson", "customer-complaints")
    with pytest.raises(NotFound):
        coach.act("sam", "lesson", "merit-budget")
    update_profile(container.engine, "mia", groups=["managers"])
    assert "Run the merit round" in coach.act("mia", "lesson", "merit-budget").text


def test_learners_set_their_lesson_hours_see_their_lessons_and_forget_me_deletes_them(coach, container):
    assert ask(coach, "lessons between 10 and 12").text.startswith("Done: lessons and reviews between 10:00 and 12:00")
    assert ask(coach, "I prefer 4-minute lessons").text.startswith("Done: lessons of about 4 minutes")
    assert coach.export("sam")["profile"]["preferences"] == {"hours": [10, 12], "lesson_minutes": 4}
    assert coach.export("sam")["questions"] == []  # settings are not learning needs
    coach.act("sam", "answer", "report-phishing:0")
    with session(container.engine) as db:
        due = db.get(ReviewCard, ("sam", "report-phishing")).due
    assert (due.hour, due.minute) == (9, 0)  # 10:00 in Amsterdam: inside Sam's own hours
    profile = ask(coach, "what do you know about me?").text
    assert "1 micro-lesson done (1 quiz answer(s) right, 0 wrong); next review 2026-11-30" in profile
    assert coach.export("sam")["lessons"]["lessons_done"] == ["report-phishing"]
    coach.act("sam", "forget_confirm")
    with session(container.engine) as db:
        assert db.exec(select(ReviewCard)).all() == [] and db.exec(select(LessonAttempt)).all() == []


def test_lessons_through_the_cli_load_list_approve_and_refuse_bad_files(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_LOAD_SAMPLES", "false")
    folder = write_lessons(tmp_path / "lessons")
    (folder / "broken.md").write_text(lesson_file("broken", "Broken", "expenses").replace("answer: 1", "answer: 9"))
    runner = CliRunner()

    loaded = runner.invoke(app, ["lessons", "load", str(folder)])
    assert loaded.exit_code == 0 and "added 4" in loaded.stdout and "refused 1" in loaded.stdout
    assert "broken.md" in loaded.stderr
    assert runner.invoke(app, ["lessons", "load", str(folder)]).stdout.count("unchanged 4") == 1
    listed = json.loads(runner.invoke(app, ["lessons", "list", "--json"]).stdout)
    assert {lesson["key"]: lesson["status"] for lesson in listed}["merit-budget"] == "approved"
    assert runner.invoke(app, ["lessons", "reject", "merit-budget"]).exit_code == 0
    assert runner.invoke(app, ["lessons", "list", "--status", "rejected"]).stdout.count("merit-budget") == 1
    assert runner.invoke(app, ["lessons", "approve", "nope"]).exit_code == 1

    drafted = runner.invoke(app, ["lessons", "draft", "--source", "anything"])
    assert drafted.exit_code == 2 and "needs a language model" in drafted.stderr
    assert runner.invoke(app, ["team-focus", "Support", "customer-service"]).exit_code == 0
    assert runner.invoke(app, ["team-focus", "Support", "juggling"]).exit_code == 2
    assert runner.invoke(app, ["learners", "set", "sam", "-p", "days=0-3", "-p", "hours=8-12"]).exit_code == 0
    assert runner.invoke(app, ["learners", "set", "sam", "-p", "lesson_minutes=4"]).exit_code == 0
    kept = json.loads(runner.invoke(app, ["learners", "export", "sam"]).stdout)["profile"]["preferences"]
    assert kept == {"days": [0, 1, 2, 3], "hours": [8, 12], "lesson_minutes": 4}
    refused = runner.invoke(app, ["learners", "set", "sam", "-p", "hours=17-9"])
    assert refused.exit_code == 2 and "hours=9-17" in refused.stderr

    content = write_content(tmp_path / "content")
    (content / "quiz.md").write_text(lesson_file("from-ingest", "Claim mileage", "expenses"))
    ingested = json.loads(runner.invoke(app, ["ingest", str(content), "--json"]).stdout)
    assert ingested["lessons"] == {"from-ingest": "added"}  # a lesson, not knowledge-base content
    assert all(not f["path"].endswith("quiz.md") for f in ingested["files"])


def test_a_model_drafts_a_lesson_that_waits_for_approval(tmp_path, embedder):
    from coach.bootstrap import bootstrap
    from tests.conftest import make_settings
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    draft = lesson_file("ignored", "Report phishing within the hour", "information-security")
    with FakeOpenAI() as llm:
        llm.chat = [Scripted("Here is the lesson:\n```markdown\n" + draft + "```")]
        container = bootstrap(make_settings(tmp_path, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test"),
                              embedder=embedder)
        container.knowledge.ingest([write_content(tmp_path / "content")])
        lesson = container.drafter.from_source("security.txt")
        prompt = llm.requests[-1]["body"]["messages"][0]["content"]
    assert lesson.status == "draft" and lesson.origin == "drafted" and lesson.key.startswith("draft-")
    assert lesson.title == "Report phishing within the hour" and lesson.sources[0].endswith("security.txt")
    assert "security@example.com" in prompt and "information-security" in prompt  # the source and the framework
    assert catalog.published(container.engine) == []  # nobody sees it before L&D approves


def test_the_learners_page_shows_due_reviews_suggestions_recent_questions_and_what_is_kept(coach, container):
    empty = coach.page("newcomer")
    assert not empty.keeps_anything and empty.recent == [] and empty.suggested  # starters for someone new
    ask(coach, "How do I report a phishing e-mail to alice@example.com?")
    ask(coach, "What is the canteen menu on Mars?")
    coach.act("sam", "answer", "report-phishing:0")
    coach.lessons.clock = lambda: FRIDAY_AFTERNOON + timedelta(days=30)  # the review fell due
    page = coach.page("sam")
    assert [line.key for line in page.due] == ["report-phishing"]
    assert "report-phishing" not in [line.key for line in page.suggested] and all(l.reason for l in page.suggested)
    assert "merit-budget" not in [line.key for line in page.suggested]  # Sam is not a manager
    assert [(q.answered, "alice@" in q.question) for q in page.recent] == [(False, False), (True, False)]
    assert page.kept_questions == 2 and page.kept_lessons == 1 and page.keeps_anything and not page.paused
    assert coach.act("sam", "pause").mode == "service" and coach.page("sam").paused
    with session(container.engine) as db:
        offers = len(db.exec(select(LessonOffer)).all())
    coach.page("sam")
    with session(container.engine) as db:
        assert len(db.exec(select(LessonOffer)).all()) == offers  # looking at one's page offers nothing
