"""Content gaps end to end, on SQLite and PostgreSQL with the real embedding model and Chroma: declined questions
cluster by topic; new content closes the clusters it answers (as each asker, within their audience) and tells each
asker once, through the delivery port, inside their allowed times; forgotten learners are never told."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from coach.bootstrap import bootstrap
from kernel.errors import CoachError
from coach.gaps import notices
from coach.learners import update_profile
from coach.messages import IncomingMessage
from coach.nudges import worker as nudge_worker
from coach.rate_limit import SLOW_DOWN
from kernel.store import session
from coach.store.models import GapNotice, GapQuestion, Need, NudgeDelivery
from tests.conftest import make_settings, write_content
from tests.fakes.delivery import RecordingDelivery

ANNA, BEN, CHRIS, DANA = "slack:T1:UANNA", "slack:T1:UBEN", "teams:tenant:chris", "slack:T1:UDANA"
MILEAGE = [(ANNA, "How do I claim mileage for a client visit?"),
           (BEN, "mileage claim for business trips"),
           (ANNA, "How do I claim mileage for a client visit?")]
LEAVE = [(CHRIS, "How do I request parental leave?"), (BEN, "how many weeks of parental leave do I get")]
MILEAGE_DOC = ("# Mileage\nWhen you drive your own car to a client or customer for work, claim mileage in the "
               "expenses tool: 0.23 euros per kilometre. Add the trip's start and end address.\n")


def build(tmp_path, embedder, database_url, **settings):
    container = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url, **settings), embedder=embedder)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    return container


def ask(container, learner_id: str, text: str, platform: str = "slack"):
    return container.coach.ask(IncomingMessage(learner_id=learner_id, text=text, platform=platform))


def add_doc(container, tmp_path, name: str, text: str, audience: str = ""):
    folder = tmp_path / "new"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    if audience:
        (folder / f"{name}.meta.yaml").write_text(f"audience: [{audience}]\n")
    return container.knowledge.ingest([folder / name])


def working_morning(after: datetime) -> datetime:
    """10:00 UTC on the first working day after `after`: inside everyone's default hours."""
    day = (after + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def send(container, delivery, now: datetime) -> int:
    return asyncio.run(notices.send_due(container.engine, delivery, now, cap=3))


def count(engine, table) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(table)).one()


@pytest.mark.postgres
def test_declined_questions_become_clusters_by_topic(tmp_path, embedder, database_url):
    container = build(tmp_path, embedder, database_url)
    for learner, question in MILEAGE + LEAVE:
        assert ask(container, learner, question).abstained
    assert not ask(container, DANA, "How do I report a phishing email?").abstained  # answered: no gap
    ask(container, DANA, "Can I claim mileage? Mail me at dana.jones@example.com")

    found = container.gaps.clusters()
    assert [(c.questions, c.people) for c in found] == [(4, 3), (2, 2)]  # sorted by demand
    mileage, leave = found
    assert mileage.label == "How do I claim mileage for a client visit?"  # asked most often in these words
    assert "mileage claim for business trips" in mileage.examples and len(mileage.examples) == 3
    assert any("<EMAIL>" in e for e in mileage.examples)  # redacted text only
    assert leave.examples == ["How do I request parental leave?", "how many weeks of parental leave do I get"]
    assert mileage.trend == "new" and mileage.weekly[-1]["questions"] == 4 and mileage.status == "open"
    served = json.dumps([c.as_json() for c in found])
    assert "dana.jones" not in served and all(who not in served for who in (ANNA, BEN, CHRIS, DANA))
    [aggregate] = container.gaps.clusters(examples=0, min_people=3)  # as shown to anyone but L&D
    assert aggregate.id == mileage.id and aggregate.examples == [] and aggregate.label == mileage.topic
    assert "mileage for" not in json.dumps(aggregate.as_json())

    with session(container.engine) as db:  # the same data clustered from scratch: the same clusters
        for row in db.exec(select(GapQuestion)).all():
            row.cluster_id, row.leader = "", False
            db.add(row)
        db.commit()
    assert [c.as_json() for c in container.gaps.clusters()] == [c.as_json() for c in found]
    assert container.gaps.refresh() == {"embedded": 0, "clustered": 0, "from_scratch": False}  # nothing new


@pytest.mark.postgres
def test_new_content_closes_the_cluster_it_answers_and_tells_each_asker_once(tmp_path, embedder, database_url):
    container = build(tmp_path, embedder, database_url)
    for learner, question in MILEAGE + LEAVE:
        ask(container, learner, question)
    ask(container, "web-visitor-1", "How do I claim mileage for a client visit?", platform="web")
    needs_before = count(container.engine, Need)

    report = add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    assert report.summary()["added"] == 1
    assert count(container.engine, Need) == needs_before  # re-asking logs no need

    closed = container.gaps.clusters(status="closed")
    assert len(closed) == 1 and closed[0].label == "How do I claim mileage for a client visit?"
    assert [(s.title, s.questions) for s in closed[0].closed_by] == [("Mileage", 4)]
    assert [c.label for c in container.gaps.clusters()] == ["How do I request parental leave?"]  # still open

    delivery = RecordingDelivery()
    now = working_morning(datetime.now(UTC))
    assert send(container, delivery, now) == 2  # Anna (once, for her two questions) and Ben; not the web visitor
    assert sorted(s.learner_id for s in delivery.sent) == [ANNA, BEN]
    reply = next(s.reply for s in delivery.sent if s.learner_id == ANNA)
    assert "you asked: “How do I claim mileage for a client visit?”. Here is the answer now:" in reply.text
    assert "0.23 euros per kilometre" in reply.text and reply.cited[0].title == "Mileage"

    assert send(container, delivery, now + timedelta(hours=1)) == 0  # the worker again: nothing more
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC + "\nKeep receipts for tolls.\n")  # updated
    assert send(container, delivery, now + timedelta(hours=2)) == 0
    assert len(delivery.sent) == 2
    with session(container.engine) as db:
        assert {r.state for r in db.exec(select(NudgeDelivery)).all()} == {"sent"}


@pytest.mark.postgres
def test_a_closed_gap_notifies_its_asker_exactly_once_through_the_delivery_port(tmp_path, embedder, database_url):
    """Through the worker's own pass, as in production: however often it runs, one message."""
    container = build(tmp_path, embedder, database_url)
    ask(container, ANNA, "How do I claim mileage for a client visit?")
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    delivery = RecordingDelivery()
    now = working_morning(datetime.now(UTC))
    worker = nudge_worker.Worker(container.engine, delivery, lambda schedule, learner: None, clock=lambda: now,
                                 worker_id="gaps-test")
    for _ in range(3):
        asyncio.run(nudge_worker.own_job(worker.id))
    assert [(s.learner_id, s.key) for s in delivery.sent] == [(ANNA, delivery.sent[0].key)]
    assert delivery.sent[0].key.startswith("gap_answer:")


def test_a_paused_learner_is_told_later_not_never(tmp_path, embedder):
    container = build(tmp_path, embedder, f"sqlite:///{tmp_path / 'gaps.db'}")
    ask(container, ANNA, "How do I claim mileage for a client visit?")
    update_profile(container.engine, ANNA, paused=True)
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    delivery = RecordingDelivery()
    morning = working_morning(datetime.now(UTC))
    assert send(container, delivery, morning) == 0  # paused: it waits
    update_profile(container.engine, ANNA, paused=False)
    assert send(container, delivery, morning.replace(hour=23)) == 0  # quiet hours: it waits
    assert send(container, delivery, working_morning(morning)) == 1 and len(delivery.sent) == 1
    assert count(container.engine, NudgeDelivery) == 1


@pytest.mark.postgres
def test_content_for_one_audience_closes_the_gap_only_for_its_members(tmp_path, embedder, database_url):
    container = build(tmp_path, embedder, database_url)
    update_profile(container.engine, BEN, groups=["managers"])
    question = "How much parking allowance do team leads get?"
    for learner in (ANNA, BEN):
        assert ask(container, learner, question).abstained
    add_doc(container, tmp_path, "parking.md", "# Parking allowance\nTeam leads get a parking allowance of 120 "
                                               "euros per month; request it from Facilities.\n", audience="managers")
    [cluster] = container.gaps.clusters()
    assert (cluster.questions, cluster.open_questions) == (2, 1)  # Anna's question is still open
    assert [s.title for s in cluster.closed_by] == ["Parking allowance"]
    delivery = RecordingDelivery()
    send(container, delivery, working_morning(datetime.now(UTC)))
    assert [s.learner_id for s in delivery.sent] == [BEN]


@pytest.mark.postgres
def test_forgotten_learners_are_never_told(tmp_path, embedder, database_url):
    container = build(tmp_path, embedder, database_url)
    ask(container, ANNA, "How do I claim mileage for a client visit?")
    ask(container, BEN, "mileage claim for business trips")
    container.gaps.refresh()
    container.coach.forget(ANNA)  # before the content arrives: her question is gone from the gaps too
    assert count(container.engine, GapQuestion) == 1
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    assert count(container.engine, GapNotice) == 1
    container.coach.forget(BEN)  # after the answer was owed, before it was sent
    assert count(container.engine, GapNotice) == 0
    delivery = RecordingDelivery()
    assert send(container, delivery, working_morning(datetime.now(UTC))) == 0 and delivery.sent == []


def test_re_asking_counts_against_no_rate_limit(tmp_path, embedder):
    container = build(tmp_path, embedder, f"sqlite:///{tmp_path / 'gaps.db'}", COACH_QUESTIONS_PER_MINUTE=3)
    ask(container, ANNA, "How do I claim mileage for a client visit?")
    ask(container, ANNA, "Can I claim mileage when I visit a customer by car?")
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    assert container.gaps.clusters(status="closed")
    assert ask(container, ANNA, "How do I report a phishing email?").text != SLOW_DOWN  # her third question


def test_a_lesson_drafted_from_a_cluster_waits_for_approval(tmp_path, embedder):
    from coach.lessons import catalog
    from tests.fakes.openai_api import FakeOpenAI, Scripted
    from tests.integration.lesson_files import lesson_file

    plain = build(tmp_path / "plain", embedder, f"sqlite:///{tmp_path / 'plain.db'}")
    ask(plain, ANNA, "How do I claim mileage for a client visit?")
    with pytest.raises(CoachError, match="needs a language model"):
        plain.drafter.draft_from_gap(plain.gaps.clusters()[0].id)

    with FakeOpenAI() as llm:
        llm.chat = [Scripted(lesson_file("ignored", "Claim mileage for client visits", "expenses"))]
        container = build(tmp_path, embedder, f"sqlite:///{tmp_path / 'gaps.db'}", LLM_BASE_URL=llm.base_url,
                          LLM_API_KEY="sk-test")
        for learner, question in MILEAGE:
            ask(container, learner, question)
        add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC, audience="managers")  # not for these askers
        [cluster] = container.gaps.clusters()
        lesson = container.drafter.draft_from_gap(cluster.id)
        prompt = llm.requests[-1]["body"]["messages"][0]["content"]
        for_managers = container.drafter.draft_from_gap(cluster.id, audience=("managers",))
        managers_prompt = llm.requests[-1]["body"]["messages"][0]["content"]
    assert len(llm.requests) == 2  # re-asking after the ingestion needed no model: the askers may not see it
    assert lesson.status == "draft" and lesson.key == f"draft-gap-{cluster.id}" and lesson.audience == ["everyone"]
    assert "- mileage claim for business trips" in prompt and "(none yet)" in prompt  # nothing for everyone
    assert lesson.sources == [] and "0.23 euros" not in prompt and "Training budget" not in prompt  # nor unrelated
    assert for_managers.key == f"draft-gap-{cluster.id}-2" and for_managers.audience == ["managers"]
    assert "0.23 euros per kilometre" in managers_prompt and for_managers.sources[0].endswith("mileage.md")
    assert container.gaps.clusters()[0].lessons == [lesson.key, for_managers.key]
    assert catalog.published(container.engine) == []
    with pytest.raises(CoachError, match="No content-gap cluster"):
        container.drafter.draft_from_gap("0" * 16)


def test_the_gaps_command_lists_open_and_closed_clusters(tmp_path, embedder):
    from connectors.cli.main import app

    container = build(tmp_path, embedder, "")
    for learner, question in MILEAGE + LEAVE:
        ask(container, learner, question)
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    runner = CliRunner()

    def invoke(args):
        return runner.invoke(app, args, obj=container)  # the CLI on this container: one embedding model per run

    listed = invoke(["gaps"])
    assert listed.exit_code == 0, listed.output
    assert "Open content gaps (1)" in listed.output and "parental" in listed.output and "mileage" not in listed.output
    assert [c["label"] for c in json.loads(invoke(["gaps", "--json"]).stdout)] == \
        ["How do I request parental leave?"]
    closed = json.loads(invoke(["gaps", "--closed", "--json"]).stdout)
    assert [(c["questions"], c["people"], c["closed_by"][0]["title"]) for c in closed] == [(3, 2, "Mileage")]
    assert "Mileage" in invoke(["gaps", "--closed"]).output
    assert len(json.loads(invoke(["gaps", "--all", "--json"]).stdout)) == 2
    drafted = invoke(["gaps", "draft", closed[0]["id"]])
    assert drafted.exit_code == 2 and "needs a language model" in drafted.stderr


TOPICS = ["parking at the office", "parental leave", "a new laptop", "the pension plan", "working from abroad",
          "the bike lease", "jury duty leave", "sick leave", "the office wifi", "team offsite budgets",
          "mileage for client visits", "buying a phone", "the canteen menu", "dental insurance", "desk booking",
          "a sabbatical", "the company car", "the gym subsidy", "relocation support", "the christmas party"]
PHRASES = ["How do I arrange {}?", "Who do I ask about {}?", "what is the policy on {}", "Where is the info on {}?",
           "Can you explain {}?"]


def test_many_open_gaps_cluster_and_only_the_few_the_new_content_may_answer_are_asked_again(tmp_path, embedder):
    """5,000 open questions (100 wordings, 400 people): clustered and listed; on an ingestion only the few wordings
    the new content may answer are asked again, each once. How long this takes is measured by bench/gaps.py."""
    from coach.gaps import clustering

    container = build(tmp_path, embedder, f"sqlite:///{tmp_path / 'gaps.db'}")
    wordings = [phrase.format(topic) for topic in TOPICS for phrase in PHRASES]
    vectors = embedder.embed_passages(wordings)
    start = datetime.now(UTC) - timedelta(days=30)
    rows = [(f"{n:032x}", n % len(wordings), start + timedelta(seconds=n * 120)) for n in range(5_000)]
    with session(container.engine) as db:
        db.add_all(Need(id=need_id, learner_id=f"slack:T1:U{n % 400}", channel="dm", platform="slack",
                        question=wordings[w], topics=[], answered=False, created_at=asked_at)
                   for n, (need_id, w, asked_at) in enumerate(rows))
        db.commit()
        db.add_all(GapQuestion(need_id=need_id, asked_at=asked_at, model=embedder.name,
                               vector=clustering.to_bytes(vectors[w])) for need_id, w, asked_at in rows)
        db.commit()

    found = container.gaps.clusters()
    assert sum(c.questions for c in found) == 5_000 and len(found) <= len(wordings)

    asked: list[str] = []
    retrieve = container.answerer.retriever.retrieve
    container.answerer.retriever = SimpleNamespace(  # the re-asking answerer is built from these parts
        retrieve=lambda query, **kw: asked.append(query) or retrieve(query, **kw))
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    assert 0 < len(asked) < 25 and len(set(asked)) == len(asked), asked  # a few distinct wordings, each asked once
    assert any("mileage" in a for a in asked)


@pytest.mark.postgres
def test_a_question_answered_only_in_part_is_a_gap_until_the_content_mentions_the_rest(tmp_path, embedder,
                                                                                     database_url):
    container = build(tmp_path, embedder, database_url)
    reply = ask(container, DANA, "How do I report phishing on a Blackberry?")
    assert not reply.abstained and reply.text.startswith("The learning content does not mention *Blackberry*")
    with session(container.engine) as db:
        need = db.get(Need, reply.need_id)
    assert need.answered and need.not_covered == ["Blackberry"]
    [gap] = container.gaps.clusters()
    assert gap.label == "How do I report phishing on a Blackberry?" and gap.status == "open"
    add_doc(container, tmp_path, "phones.md", "# Phones\nCompany phones are iPhones; report lost ones to the desk.")
    assert container.gaps.clusters()[0].status == "open"  # re-asked, still not about a Blackberry: still a gap
    add_doc(container, tmp_path, "blackberry.md", "# Phishing on a Blackberry\nOn a Blackberry, report phishing "
                                                  "by forwarding the e-mail to security@example.com.")
    assert container.gaps.clusters(status="closed")[0].label == "How do I report phishing on a Blackberry?"
