"""Accepted platform events, kept in the database until they are handled: nothing acknowledged is lost with a replica.

A platform does not redeliver an event it got an acknowledgement for, and the acknowledgement must come within
seconds, long before an answer is written. So an event is written here, claimed under a lease by the replica that
acknowledges it, before that acknowledgement goes out. While it answers, the replica renews the lease; once the
event is handled its payload (which holds what the learner wrote) is cleared. When a replica dies mid-answer, its
lease runs out and another replica takes the event over and handles it again from the start; the claim of the
message itself (coach/seen.py, with the event as its claimant) keeps that to one answer across the twin events a
platform may send for one message. An event whose handling ended MAX_ATTEMPTS times without finishing (it brings
down whoever handles it) is dropped, with a warning in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from coach.store.models import InboxEvent
from kernel.store import session, utcnow
from kernel.tracing import bound

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
KEEP = timedelta(days=1)  # handled rows absorb a platform's redeliveries for this long


@dataclass(frozen=True)
class Taken:
    key: str
    payload: str
    request_id: str
    attempts: int
    progress: str = ""  # what the last handler noted it had shown (`note`)


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


def note(engine: Engine, key: str, progress: str) -> None:
    """What the handler has shown so far (e.g. the message an answer streams into): whoever takes the event over
    can tidy it up instead of leaving a half answer beside the whole one."""
    with session(engine) as db:
        db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.state == "pending")
                .values(progress=progress))
        db.commit()


def release(engine: Engine, key: str, owner: str) -> None:
    """This owner stops handling it unfinished (it shuts down, or its handler failed): taken over at once."""
    with session(engine) as db:
        db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.owner == owner,
                                         InboxEvent.state == "pending").values(lease_until=utcnow()))
        db.commit()


def done(engine: Engine, key: str) -> None:
    with session(engine) as db:
        db.exec(update(InboxEvent).where(InboxEvent.key == key, InboxEvent.state == "pending")
                .values(state="done", payload="", progress="", lease_until=None, done_at=utcnow()))
        db.commit()


def take_over(engine: Engine, platform: str, owner: str, lease_s: float, limit: int = 20,
              now: datetime | None = None) -> list[Taken]:
    """The platform's events whose lease ran out (their replica died or hung), each now held by `owner`: one
    conditional update per event, so two replicas looking at once take each event once."""
    now = now or utcnow()
    with session(engine) as db:
        expired = db.exec(select(InboxEvent.key).where(InboxEvent.platform == platform,
                                                       InboxEvent.state == "pending", InboxEvent.lease_until < now)
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
                row.state, row.payload, row.progress, row.lease_until, row.done_at = "dropped", "", "", None, now
                db.add(row)
                db.commit()
                continue
            taken.append(Taken(row.key, row.payload, row.request_id, row.attempts, row.progress))
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


class Holder:
    """One process's hand on one platform's events: accepts them, holds them while they are handled, and takes
    over what dead processes left."""

    def __init__(self, engine: Engine, platform: str, lease_s: float) -> None:
        self.engine, self.platform, self.lease_s = engine, platform, lease_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def accept(self, key: str, payload: str, request_id: str = "") -> bool:
        return accept(self.engine, key, platform=self.platform, payload=payload, owner=self.owner,
                      lease_s=self.lease_s, request_id=request_id)

    @contextlib.asynccontextmanager
    async def holding(self, key: str):
        """Around the handling of an accepted event: the lease renewed meanwhile, the event done after it; when
        the handling is cancelled (the server stops) or fails, released for another process to take over at once."""
        renewing = asyncio.create_task(self._renew(key))
        try:
            yield
        except BaseException:
            renewing.cancel()
            with contextlib.suppress(SQLAlchemyError):  # the database away: the lease runs out instead
                release(self.engine, key, self.owner)  # not awaited: a cancelled task may not get to run again
            raise
        try:
            await self._done(key)
        finally:
            renewing.cancel()

    async def _done(self, key: str) -> None:
        """Handled: recorded as done, through a database that is away for a while (still holding the lease), so a
        short outage does not get the event handled twice."""
        for wait in (0.5, 1, 2, 4, 8, 15, 30):
            try:
                await asyncio.to_thread(done, self.engine, key)
                return
            except SQLAlchemyError as exc:
                log.warning("inbox: could not record %s as handled (%s); trying again in %g s", key, exc, wait)
                await asyncio.sleep(wait)
        log.error("inbox: %s was handled but could not be recorded so: another process may handle it again", key)

    async def _renew(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                renewed = await asyncio.to_thread(renew, self.engine, key, self.owner, self.lease_s)
            except SQLAlchemyError as exc:  # the database away: renewed when it is back, unless taken over
                log.warning("inbox: could not renew the lease of %s (%s)", key, exc)
                continue
            if not renewed:
                log.warning("inbox: %s was taken over by another process while this one handled it", key)
                return

    async def take_over_forever(self, dispatch: Callable[[Taken], Awaitable[None]]) -> None:
        """Every third of a lease, what dead processes left is handed to `dispatch` (each in a task of its own,
        under the request id it came in with); once in a while, what was handled a day ago is pruned."""
        rounds = 0
        while True:
            try:
                for taken in await asyncio.to_thread(take_over, self.engine, self.platform, self.owner,
                                                     self.lease_s):
                    with bound(taken.request_id):
                        log.info("inbox: took over %s (attempt %d)", taken.key, taken.attempts)
                        asyncio.create_task(dispatch(taken))
                if rounds % 1000 == 0:
                    await asyncio.to_thread(prune, self.engine)
            except Exception as exc:  # the database away: the next round tries again
                log.warning("inbox: could not look for events to take over (%s)", exc)
            rounds += 1
            await asyncio.sleep(max(self.lease_s / 3, 0.5))
