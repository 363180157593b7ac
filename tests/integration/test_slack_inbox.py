"""No accepted Slack question is lost with a replica: the inbox in the database (coach/inbox.py) holds each event
from before its acknowledgement until it is answered, and another replica takes over what a dead one left; the
claim of the message keeps that to one answer. Through the real /slack/events endpoint and the mock Slack Web API,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

from sqlmodel import select

from coach import inbox, seen
from coach.store.models import InboxEvent
from kernel.store import session
from tests.fakes.slack_api import TEAM
from tests.integration.slack_helpers import as_message_event, event_body, mention
from tests.integration.test_slack import GENERAL, Slack, api, start  # noqa: F401 - the fixture


def rows(engine) -> dict[str, InboxEvent]:
    with session(engine) as db:
        return {row.key: row for row in db.exec(select(InboxEvent)).all()}


def wait_handled(engine, timeout: float = 30) -> dict[str, InboxEvent]:
    deadline = time.monotonic() + timeout
    while inbox.pending(engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not inbox.pending(engine), rows(engine)
    return rows(engine)


def test_a_question_a_dead_replica_accepted_is_answered_once_by_another(tmp_path, embedder, api, database_url):
    http, container = start(tmp_path, embedder, api, DATABASE_URL=database_url, COACH_INBOX_LEASE_S=1)
    question = api.post_user_message(GENERAL, "U1", "How do I report phishing?")
    twins = [json.loads(event_body(mention(question), event_id="EvMENTION")),
             json.loads(event_body(as_message_event(question, "channel"), event_id="EvMESSAGE"))]
    # what a replica that was SIGKILLed mid-answer leaves: both twin events accepted under its lease (now run
    # out), and the message claimed by the first; then this replica starts
    for body in twins:
        assert inbox.accept(container.engine, f"slack:{body['event_id']}", platform="slack", payload=json.dumps(body),
                            owner="dead-replica", lease_s=0.05)
    assert seen.first_time(container.engine, f"slack:msg:{TEAM}:{GENERAL}:{question['ts']}", "slack:EvMENTION")
    # ... and the answer it had begun to stream into the thread, never stopped
    _, _, half = api.handle("chat.startStream", {"channel": GENERAL, "thread_ts": question["ts"],
                                                 "markdown_text": "Forward the", "recipient_user_id": "U1",
                                                 "recipient_team_id": TEAM}, "xoxb-test")
    inbox.note(container.engine, "slack:EvMENTION", json.dumps({"channel": GENERAL, "ts": half["ts"]}))
    time.sleep(0.1)
    with http:
        slack = Slack(api, http, container)
        api.wait_for(lambda calls: len(slack.finals()) >= 1)
        handled = wait_handled(container.engine)
        time.sleep(0.5)  # an answer doubled by the twin would be in by now
        [answer] = slack.finals()
    assert "How to report phishing" in json.dumps(answer.message or answer.args)
    assert [c.args["ts"] for c in api.of("chat.delete")] == [half["ts"]]  # the half answer is gone
    assert api.message_at(GENERAL, half["ts"]) is None
    assert {k: (r.state, r.attempts, r.payload, r.progress) for k, r in handled.items()} == {
        "slack:EvMENTION": ("done", 2, "", ""), "slack:EvMESSAGE": ("done", 2, "", "")}  # what was written is gone


def test_a_replica_stopping_mid_answer_hands_the_question_to_the_next(tmp_path, embedder, api, monkeypatch):
    http, container = start(tmp_path, embedder, api)
    answering, released = threading.Event(), threading.Event()

    def stuck(message, on_partial=None, cancel=None):
        on_partial("To report phishing,")  # streamed into its message, then the replica stops
        answering.set()
        released.wait(30)
        raise RuntimeError("the replica is gone")

    monkeypatch.setattr(container.coach, "ask", stuck)
    question = api.post_user_message("D0DM", "U1", "How do I report phishing?")
    body = event_body(as_message_event(question, "im"), event_id="EvSTOPPED")
    with http:
        assert Slack(api, http, container).send(body).status_code == 200
        assert answering.wait(10)
        api.wait_for(lambda calls: any(c.method == "chat.startStream" for c in calls))
        deadline = time.monotonic() + 10
        while not (row := next(iter(rows(container.engine).values()))).progress and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (row.state, json.loads(row.payload)["event"]["text"]) == ("pending", "How do I report phishing?")
        half = json.loads(row.progress)  # the message its answer streams into
    released.set()  # the server stopped: its answer was cancelled and the event released
    restarted, again = start(tmp_path, embedder, api, content=False)
    with restarted:
        slack = Slack(api, restarted, again)
        assert slack.send(body, retry=1).status_code == 200  # Slack's retry meanwhile: acknowledged, not doubled
        api.wait_for(lambda calls: len(slack.finals()) >= 1)
        handled = wait_handled(again.engine)
        time.sleep(0.5)
        [answer] = slack.finals()
    assert "How to report phishing" in json.dumps(answer.message or answer.args)
    assert handled["slack:EvSTOPPED"].state == "done" and handled["slack:EvSTOPPED"].attempts == 2
    assert [c.args["ts"] for c in api.of("chat.delete")] == [half["ts"]]  # the stopped one's half answer: gone


def test_handled_events_are_pruned_after_a_day_and_pending_ones_never(tmp_path, embedder, api):
    from datetime import timedelta

    from kernel.store import utcnow

    _, container = start(tmp_path, embedder, api, content=False)
    engine = container.engine
    for key in ("slack:Ev1", "slack:Ev2"):
        assert inbox.accept(engine, key, platform="slack", payload="{}", owner="me", lease_s=30)
    assert not inbox.accept(engine, "slack:Ev1", platform="slack", payload="{}", owner="other", lease_s=30)
    assert not inbox.renew(engine, "slack:Ev1", "other", 30) and inbox.renew(engine, "slack:Ev1", "me", 30)
    later = utcnow() + timedelta(minutes=1)  # both leases have run out: another process takes both, once
    assert [t.key for t in inbox.take_over(engine, "slack", "other", 30, now=later)] == ["slack:Ev1", "slack:Ev2"]
    assert inbox.take_over(engine, "slack", "third", 30, now=later) == []
    assert inbox.take_over(engine, "teams", "other", 30, now=utcnow() + timedelta(hours=1)) == []
    inbox.done(engine, "slack:Ev1")
    assert inbox.prune(engine, now=utcnow() + timedelta(hours=23)) == 0
    assert inbox.prune(engine, now=utcnow() + timedelta(days=2)) == 1
    assert set(rows(engine)) == {"slack:Ev2"} and inbox.pending(engine) == 1
