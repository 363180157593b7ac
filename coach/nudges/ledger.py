"""Exactly-once proactive delivery: each message is recorded under its unique key before it is sent, so a retry or a
second worker never sends it again; throttled or failing sends are retried with backoff and the final state kept.
A record left `sending` by a crashed worker is settled on the next start (`recover`): the platform is asked whether
the message arrived (Slack can tell from the message's metadata); where it cannot tell, it is not resent."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Awaitable, Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from coach.messages import Reply
from coach.ports import Delivery
from kernel import metrics
from kernel.store import session, utcnow
from coach.store.models import NudgeDelivery

log = logging.getLogger(__name__)

ATTEMPTS = 5
BACKOFF_S = (1.0, 5.0, 30.0, 120.0)  # when the platform gives no Retry-After
MAX_WAIT_S = 300.0
FINAL = ("sent", "failed", "skipped")


def claim(engine: Engine, key: str, learner_id: str, kind: str, now: datetime | None = None) -> str:
    """"new" for the first caller (the record now says `sending`), else the record's state. `now`: the worker's
    clock (the daily cap and the reminder ladder count from these times)."""
    now = now or utcnow()
    with session(engine) as db:
        db.add(NudgeDelivery(key=key[:250], learner_id=learner_id, kind=kind, created_at=now, updated_at=now))
        try:
            db.commit()
            return "new"
        except IntegrityError:
            db.rollback()
            return db.get(NudgeDelivery, key[:250]).state


def known(engine: Engine, key: str) -> str | None:
    """The state of a delivery already recorded under this key, if any."""
    with session(engine) as db:
        record = db.get(NudgeDelivery, key[:250])
    return record.state if record else None


def settled(engine: Engine, keys: list[str]) -> set[str]:
    """Which of these keys already have a final state (a resumed firing skips them in one query)."""
    found: set[str] = set()
    with session(engine) as db:
        for start in range(0, len(keys), 5000):  # within every database's limit on bound parameters
            batch = [k[:250] for k in keys[start:start + 5000]]
            found |= set(db.exec(select(NudgeDelivery.key).where(NudgeDelivery.key.in_(batch),
                                                                 NudgeDelivery.state.in_(FINAL))).all())
    return found


def settle(engine: Engine, key: str, state: str, *, attempts: int | None = None, reason: str = "",
           now: datetime | None = None) -> None:
    with session(engine) as db:
        record = db.get(NudgeDelivery, key[:250])
        record.state, record.reason, record.updated_at = state, reason[:300], now or utcnow()
        if attempts is not None:
            record.attempts = attempts
        db.add(record)
        db.commit()
    metrics.DELIVERIES.labels(record.kind, state).inc()


def skip(engine: Engine, key: str, learner_id: str, kind: str, reason: str, now: datetime | None = None) -> None:
    """Recorded as not sent on purpose (paused, past its grace time...), so it is never sent later either."""
    if claim(engine, key, learner_id, kind, now) == "new":
        settle(engine, key, "skipped", reason=reason, now=now)


async def deliver(engine: Engine, delivery: Delivery, *, key: str, learner_id: str, reply: Reply,
                  kind: str = "nudge", sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                  now: datetime | None = None) -> str:
    """Send once; returns the final state (or `sending` when another worker has it in hand)."""
    state = await asyncio.to_thread(claim, engine, key, learner_id, kind, now)
    if state != "new":
        return state
    reason = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = await delivery.send(learner_id, reply, key)
        except Exception as exc:  # a connector bug must not leave the record `sending` for ever
            log.exception("sending %s failed", key)
            result_reason = f"error: {exc}"[:300]
            await asyncio.to_thread(settle, engine, key, "failed", attempts=attempt, reason=result_reason)
            return "failed"
        if result.delivered:
            await asyncio.to_thread(settle, engine, key, "sent", attempts=attempt, now=now)
            return "sent"
        reason = result.reason
        if result.retry_after is None or attempt == ATTEMPTS:
            break
        await sleep(min(result.retry_after or BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)], MAX_WAIT_S))
    await asyncio.to_thread(settle, engine, key, "failed", attempts=attempt, reason=reason)
    return "failed"


async def recover(engine: Engine, delivery: Delivery) -> dict[str, int]:
    """Settle what a crashed worker left `sending`: sent if the platform has it, else failed (never resent blind)."""
    with session(engine) as db:
        stuck = db.exec(select(NudgeDelivery).where(NudgeDelivery.state == "sending")).all()
    counts = {"sent": 0, "failed": 0, "resent": 0}
    for record in stuck:
        arrived = await delivery.was_sent(record.learner_id, record.key)
        if arrived:
            await asyncio.to_thread(settle, engine, record.key, "sent", reason="confirmed after a restart")
            counts["sent"] += 1
        elif arrived is False:  # the platform is sure it never arrived: send it now
            await asyncio.to_thread(_release, engine, record.key)
            counts["resent"] += 1
        else:
            await asyncio.to_thread(settle, engine, record.key, "failed",
                                    reason="interrupted by a restart; not resent, as the platform cannot tell "
                                           "whether it arrived")
            counts["failed"] += 1
    return counts


def _release(engine: Engine, key: str) -> None:
    """Forget an unsent claim so the next dispatch sends it."""
    with session(engine) as db:
        record = db.get(NudgeDelivery, key[:250])
        if record is not None and record.state == "sending":
            db.delete(record)
            db.commit()
