"""Accepted platform events, kept in the database until they are handled: nothing acknowledged is lost with a replica.

A platform does not redeliver an event it got an acknowledgement for, and the acknowledgement must come within
seconds, long before an answer is written. So an event is written here, claimed under a lease by the replica that
acknowledges it, before that acknowledgement goes out. While it answers, the replica renews the lease; once the
event is handled its payload (which holds what the learner wrote) is cleared. When a replica dies mid-answer, its
lease runs out and another replica takes the event over and handles it again from the start; the claim of the
message itself (coach/seen.py, with the event as its claimant) keeps that to one answer across the twin events a
platform may send for one message. An event that has been taken over MAX_ATTEMPTS times (it brings down whoever
handles it) is dropped, with a warning in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from coach.store.models import InboxEvent
from kernel.store import session, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
KEEP = timedelta(days=1)  # handled rows absorb a platform's redeliveries for this long


@dataclass(frozen=True)
class Taken:
    key: str
    payload: str
    request_id: str
    attempts: int


def accept(engine: Engine, key: str, *, platform: str, payload: str, owner: str, lease_s: float,
           request_id: str = "") -> bool:
    """True: the event is new and this owner handles it now, under a lease. False: it was accepted before (a
    redelivery), and whoever holds it, or takes it over when their lease runs out, handles it."""
    with session(engine) as db:
        db.add(InboxEvent(key=key[:120], platform=platform, payload=payload, owner=owner[:80],
                          request_id=request_id[:40], attempts=1, lease_until=utcnow() + timedelta(seconds=lease_s)))
        try:
            db.commit()
            return True
        except IntegrityError:
            db.rollback()
            return False


def renew(engine: Engine, key: str, owner: str, lease_s: float) -> bool:
    """Extend the lease while handling; False when it was taken over meanwhile (this owner was too slow)."""
    with session(engine) as db:
        count = db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.owner == owner,
                                                 InboxEvent.state == "pending")
                        .values(lease_until=utcnow() + timedelta(seconds=lease_s))).rowcount
        db.commit()
    return count == 1


def release(engine: Engine, key: str, owner: str) -> None:
    """This owner stops handling it unfinished (it shuts down, or its handler failed): taken over at once."""
    with session(engine) as db:
        db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.owner == owner,
                                         InboxEvent.state == "pending").values(lease_until=utcnow()))
        db.commit()


def done(engine: Engine, key: str) -> None:
    with session(engine) as db:
        db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.state == "pending")
                .values(state="done", payload="", lease_until=None, done_at=utcnow()))
        db.commit()


def take_over(engine: Engine, owner: str, lease_s: float, limit: int = 20,
              now: datetime | None = None) -> list[Taken]:
    """Events whose lease ran out (their replica died or hung), each now held by `owner`: one conditional update
    per event, so two replicas looking at once take each event once."""
    now = now or utcnow()
    with session(engine) as db:
        expired = db.exec(select(InboxEvent.key).where(InboxEvent.state == "pending", InboxEvent.lease_until < now)
                          .order_by(InboxEvent.received_at).limit(limit)).all()
        taken = []
        for key in expired:
            claimed = db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.state == "pending",
                                                       InboxEvent.lease_until < now)
                              .values(owner=owner[:80], lease_until=now + timedelta(seconds=lease_s),
                                      attempts=InboxEvent.attempts + 1)).rowcount
            db.commit()
            if not claimed:
                continue  # another replica took it first
            row = db.get(InboxEvent, key, populate_existing=True)
            if row.attempts > MAX_ATTEMPTS:
                log.warning("inbox: dropped %s after %d attempts (each handler died or hung)", key, MAX_ATTEMPTS)
                row.state, row.payload, row.lease_until, row.done_at = "dropped", "", None, now
                db.add(row)
                db.commit()
                continue
            taken.append(Taken(row.key, row.payload, row.request_id, row.attempts))
    return taken


def pending(engine: Engine) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(InboxEvent).where(InboxEvent.state == "pending")).one()


def prune(engine: Engine, now: datetime | None = None) -> int:
    with session(engine) as db:
        removed = db.exec(delete(InboxEvent).where(InboxEvent.state != "pending",
                                                   InboxEvent.done_at < (now or utcnow()) - KEEP)).rowcount
        db.commit()
    return removed
