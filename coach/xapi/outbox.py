"""The outbox of statements to the LRS, kept in the product's database: claimed in batches under a lease by the
one sender, settled as sent, put back with a later `next_at` (backoff, `Retry-After`), or failed with the LRS's
reason (a statement it rejects; `coach xapi retry` queues those again). A lease that runs out means its sender
died mid-POST: those statements are looked up in the LRS before anything is sent again (`in_doubt`), so a crash
neither loses nor doubles one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.store.models import XapiStatement
from coach.xapi.profile import Profile, verb
from coach.xapi.statements import Statement, StatementRef, timestamp
from kernel.store import as_utc, session, utcnow

LEASE = timedelta(seconds=60)
KEEP_SENT = timedelta(days=30)  # sent statements are kept this long (status, voiding on "forget me"), then pruned
STATES = ("queued", "sending", "sent", "failed")


def claim(engine: Engine, limit: int, now: datetime | None = None) -> list[XapiStatement]:
    """Up to `limit` due statements, oldest first, now `sending` under a lease. On PostgreSQL rows another sender
    holds are skipped (FOR UPDATE SKIP LOCKED); SQLite has one writer at a time."""
    now = now or utcnow()
    with session(engine) as db:
        query = select(XapiStatement).where(XapiStatement.state == "queued", XapiStatement.next_at <= now) \
            .order_by(XapiStatement.created_at).limit(limit)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = db.exec(query).all()
        for row in rows:
            row.state, row.lease_until, row.attempts, row.posted_at = "sending", now + LEASE, row.attempts + 1, now
            db.add(row)
        db.commit()
        return list(rows)


def in_doubt(engine: Engine, now: datetime | None = None, limit: int = 1000) -> list[XapiStatement]:
    """Statements whose sender's lease ran out mid-send (it crashed, or the POST's answer was lost)."""
    now = now or utcnow()
    with session(engine) as db:
        return list(db.exec(select(XapiStatement).where(XapiStatement.state == "sending",
                                                        XapiStatement.lease_until < now)
                            .order_by(XapiStatement.created_at).limit(limit)).all())


def orphan_all(engine: Engine, now: datetime | None = None) -> int:
    """Every statement `sending` is in doubt now: called by a sender that just became the only one (it holds the
    dispatch lock, so whoever claimed them is gone), instead of waiting for their leases to run out."""
    with session(engine) as db:
        count = db.exec(update(XapiStatement).where(XapiStatement.state == "sending")
                        .values(lease_until=now or utcnow())).rowcount
        db.commit()
    return count


def due_now(engine: Engine, now: datetime | None = None) -> None:
    """The LRS is back: what waits for its backoff is due now, and what is in doubt is looked up now (the one
    sender calls this between batches, when nothing of its own is in flight)."""
    now = now or utcnow()
    with session(engine) as db:
        db.exec(update(XapiStatement).where(XapiStatement.state == "queued", XapiStatement.next_at > now)
                .values(next_at=now))
        db.commit()
    orphan_all(engine, now)


def settle(engine: Engine, ids: list[str], state: str, *, reason: str = "", next_at: datetime | None = None,
           now: datetime | None = None) -> None:
    """`queued` with `next_at` to try again later; `sending` with `next_at` to look them up in the LRS first."""
    now = now or utcnow()
    values: dict = {"state": state, "reason": reason[:300], "lease_until": None}
    if state == "sent":
        values["sent_at"] = now
    if next_at is not None:
        values["next_at"] = next_at
    if state == "sending":  # in doubt from now: the lease has "run out"
        values["lease_until"] = next_at or now
        values.pop("next_at", None)
    with session(engine) as db:
        for start in range(0, len(ids), 1000):
            db.exec(update(XapiStatement).where(XapiStatement.id.in_(ids[start:start + 1000])).values(**values))
        db.commit()


def retry(engine: Engine, ids: list[str] | None = None) -> int:
    """Failed statements (these, or all) queued again, to be sent now."""
    with session(engine) as db:
        query = update(XapiStatement).where(XapiStatement.state == "failed")
        if ids:
            query = query.where(XapiStatement.id.in_(ids))
        count = db.exec(query.values(state="queued", next_at=utcnow(), reason="")).rowcount
        db.commit()
    return count


def status(engine: Engine, now: datetime | None = None) -> dict:
    """What the admin and `coach xapi status` show: counts per state, the oldest waiting, the last sent, and why
    statements failed or wait (the most frequent reasons)."""
    now = now or utcnow()
    with session(engine) as db:
        counts = dict(db.exec(select(XapiStatement.state, func.count()).group_by(XapiStatement.state)).all())
        oldest = db.exec(select(func.min(XapiStatement.created_at)).where(
            XapiStatement.state.in_(("queued", "sending")))).one()
        last_sent = db.exec(select(func.max(XapiStatement.sent_at))).one()
        reasons = db.exec(select(XapiStatement.state, XapiStatement.reason, func.count()).where(
            XapiStatement.reason != "", XapiStatement.state != "sent").group_by(
            XapiStatement.state, XapiStatement.reason).order_by(func.count().desc()).limit(5)).all()
    return {"counts": {state: counts.get(state, 0) for state in STATES},
            "oldest_waiting_s": round((now - as_utc(oldest)).total_seconds()) if oldest else None,
            "last_sent_at": as_utc(last_sent).isoformat() if last_sent else None,
            "reasons": [{"state": s, "reason": r, "count": n} for s, r, n in reasons]}


def failed(engine: Engine, limit: int = 50) -> list[XapiStatement]:
    with session(engine) as db:
        return list(db.exec(select(XapiStatement).where(XapiStatement.state == "failed")
                            .order_by(XapiStatement.created_at.desc()).limit(limit)).all())


def prune(engine: Engine, now: datetime | None = None) -> int:
    with session(engine) as db:
        count = db.exec(delete(XapiStatement).where(XapiStatement.state == "sent",
                                                    XapiStatement.sent_at < (now or utcnow()) - KEEP_SENT)).rowcount
        db.commit()
    return count


def forget(engine: Engine, learner_id: str, profile: Profile | None) -> dict[str, int]:
    """"Forget me": what was never sent is dropped; what was sent (or may have been) is voided in the LRS by the
    coach's own voiding statements, which name the statement only. The learner's rows go either way."""
    with session(engine) as db:
        rows = db.exec(select(XapiStatement.id, XapiStatement.state).where(
            XapiStatement.learner_id == learner_id)).all()
        sent = [statement_id for statement_id, state in rows if state in ("sent", "sending")]
        if profile is not None:
            now = utcnow()
            for statement_id in sent:
                void = Statement(id=str(uuid.uuid4()), actor=profile.coach(), verb=verb("voided"),
                                 object=StatementRef(id=statement_id), timestamp=timestamp(now))
                db.add(XapiStatement(id=void.id, verb="voided", ref=statement_id, statement=void.as_json(),
                                     created_at=now, next_at=now))
        db.exec(delete(XapiStatement).where(XapiStatement.learner_id == learner_id))
        db.commit()
    return {"dropped": len(rows) - len(sent), "voided": len(sent) if profile is not None else 0}
