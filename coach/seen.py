"""Exactly once across retries, restarts and replicas: platform deliveries and threads remembered in the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from kernel.store import session, utcnow
from coach.store.models import SeenEvent


def first_time(engine: Engine, key: str, by: str | None = None) -> bool:
    """True for the first caller with this key, False for every later one (one atomic insert). `by`: the inbox
    event claiming it (coach/inbox.py); when another replica takes that event over, the claim is still its own."""
    with session(engine) as db:
        db.add(SeenEvent(key=key[:250], claimed_by=by))
        try:
            db.commit()
            return True
        except IntegrityError:
            db.rollback()
            return by is not None and (claim := db.get(SeenEvent, key[:250])) is not None and claim.claimed_by == by


def seen(engine: Engine, key: str) -> bool:
    with session(engine) as db:
        return db.get(SeenEvent, key[:250]) is not None


def forget_older_than(engine: Engine, days: int = 30) -> int:
    """Platforms redeliver within minutes; a month of keys is plenty (threads older than that lose follow-ups)."""
    with session(engine) as db:
        removed = db.exec(delete(SeenEvent).where(SeenEvent.seen_at < utcnow() - timedelta(days=days))).rowcount
        db.commit()
    return removed
