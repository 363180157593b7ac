"""Proactive delivery: recorded before sending and sent at most once (across workers and a crash), retried when
throttled, kept inside the learner's allowed times; and the Slack adapter against the mock Slack Web API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from coach.learners import update_profile
from coach.messages import Reply
from coach.nudges import ledger
from coach.nudges.policy import next_allowed
from coach.ports import SendResult
from kernel.store import make_engine, session
from coach.store.db import migrate
from coach.store.models import NudgeDelivery
from connectors.server import create_app
from tests.conftest import make_settings
from tests.fakes.slack_api import TEAM, SlackAPI
from tests.fakes.delivery import RecordingDelivery
from tests.integration.slack_helpers import SECRET

NUDGE = Reply(text="Time for a two-minute review: *Report phishing fast*.", mode="service")


def state_of(engine, key: str) -> NudgeDelivery:
    with session(engine) as db:
        return db.get(NudgeDelivery, key)


@pytest.mark.postgres
def test_a_delivery_is_sent_once_however_many_workers_try(database_url):
    workers = [make_engine(database_url) for _ in range(2)]
    migrate(workers[0])
    platform = RecordingDelivery()

    async def everyone_tries():
        return await asyncio.gather(*[ledger.deliver(workers[i % 2], platform, key=f"s1:u{i % 5}:2026-11-23",
                                                     learner_id=f"u{i % 5}", reply=NUDGE) for i in range(20)])

    states = asyncio.run(everyone_tries())
    assert len(platform.sent) == 5 and sorted({s.key for s in platform.sent}) == \
        [f"s1:u{n}:2026-11-23" for n in range(5)]
    assert states.count("sent") + states.count("sending") == 20  # the others saw it claimed or done
    assert asyncio.run(ledger.deliver(workers[1], platform, key="s1:u0:2026-11-23", learner_id="u0",
                                      reply=NUDGE)) == "sent"
    assert len(platform.sent) == 5
    for engine in workers:
        engine.dispose()


def test_throttled_sends_wait_and_refused_ones_fail_for_good(container):
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    platform = RecordingDelivery([SendResult(False, retry_after=7, reason="rate limited"),
                                  SendResult(False, retry_after=0, reason="503"), SendResult(True)])
    assert asyncio.run(ledger.deliver(container.engine, platform, key="k1", learner_id="u1", reply=NUDGE,
                                      sleep=sleep)) == "sent"
    assert waits == [7, 5.0] and state_of(container.engine, "k1").attempts == 3  # Retry-After, then backoff

    refused = RecordingDelivery([SendResult(False, reason="user_not_found")])
    assert asyncio.run(ledger.deliver(container.engine, refused, key="k2", learner_id="u2", reply=NUDGE)) == "failed"
    record = state_of(container.engine, "k2")
    assert record.reason == "user_not_found" and record.attempts == 1
    assert asyncio.run(ledger.deliver(container.engine, RecordingDelivery(), key="k2", learner_id="u2",
                                      reply=NUDGE)) == "failed"  # its final state stands: never sent later

    ledger.skip(container.engine, "k3", "u3", "nudge", "paused")
    assert state_of(container.engine, "k3").state == "skipped"


def test_what_a_crash_left_sending_is_settled_without_sending_twice(container):
    engine = container.engine
    for key in ("arrived", "lost", "unknown"):
        assert ledger.claim(engine, key, "u1", "nudge") == "new"  # ... and the worker died before recording more
    platform = RecordingDelivery(knows={"arrived": True, "lost": False, "unknown": None})
    assert asyncio.run(ledger.recover(engine, platform)) == {"sent": 1, "failed": 1, "resent": 1}
    assert state_of(engine, "arrived").state == "sent" and state_of(engine, "unknown").state == "failed"
    assert asyncio.run(ledger.deliver(engine, platform, key="lost", learner_id="u1", reply=NUDGE)) == "sent"
    assert [s.key for s in platform.sent] == ["lost"]


def test_nudges_wait_for_working_hours_skip_paused_learners_and_respect_the_daily_cap(container):
    engine = container.engine
    update_profile(engine, "sam", timezone="Europe/Amsterdam")
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert next_allowed(engine, "sam", saturday) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 9:00
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert next_allowed(engine, "sam", tuesday) == tuesday
    with session(engine) as db:
        db.add_all([NudgeDelivery(key=f"today{n}", learner_id="sam", state="sent", updated_at=tuesday)
                    for n in range(3)])
        db.commit()
    assert next_allowed(engine, "sam", tuesday, cap=3) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # tomorrow
    update_profile(engine, "sam", paused=True)
    assert next_allowed(engine, "sam", tuesday) is None


def test_slack_dms_carry_their_key_and_429s_are_handed_back(tmp_path, embedder):
    from coach.bootstrap import bootstrap
    from fastapi.testclient import TestClient

    api = SlackAPI()
    try:
        container = bootstrap(make_settings(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                                            SLACK_API_URL=api.base_url), embedder=embedder)
        with TestClient(create_app(container)) as http:
            deliveries = http.app.state.deliveries
            learner = f"slack:{TEAM}:U9"
            sent = http.portal.call(deliveries.send, learner, NUDGE, "s1:U9:2026-11-30")
            assert sent.delivered
            [post] = api.of("chat.postMessage")
            assert post.args["channel"] == "DU9" and "Report phishing fast" in post.args["text"]
            assert post.args["metadata"]["event_payload"]["key"] == "s1:U9:2026-11-30"
            assert http.portal.call(deliveries.was_sent, learner, "s1:U9:2026-11-30") is True
            assert http.portal.call(deliveries.was_sent, learner, "s1:U9:2026-12-01") is False

            api.failures["chat.postMessage"] = [(429, {"Retry-After": "0"})] * 4  # more than the client retries
            throttled = http.portal.call(deliveries.send, learner, NUDGE, "s1:U9:2026-12-01")
            assert not throttled.delivered and throttled.retry_after == 0
            opened = len(api.of("conversations.open"))
            assert http.portal.call(deliveries.send, f"slack:{TEAM}:C0TIPS", NUDGE, "s2:C0TIPS:2026-12-01").delivered
            assert api.of("chat.postMessage")[-1].args["channel"] == "C0TIPS"  # a channel is posted in as it is
            assert len(api.of("conversations.open")) == opened
            unknown = http.portal.call(deliveries.send, "web-123", NUDGE, "k")
            assert not unknown.delivered and "no connected chat" in unknown.reason
    finally:
        api.close()
