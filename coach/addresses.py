"""Where the coach can reach people proactively: each platform's conversation references, kept in the database."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import session, utcnow
from coach.store.models import ChatAddress


def remember(engine: Engine, *, platform: str, kind: str, key: str, reference: dict, learner_id: str = "") -> None:
    """Keep the newest reference for this personal chat or channel (service URLs and ids change over time)."""
    full_key = f"{platform}:{kind}:{key}"[:250]
    with session(engine) as db:
        address = db.get(ChatAddress, full_key) or ChatAddress(key=full_key, platform=platform, kind=kind)
        address.learner_id, address.reference, address.updated_at = learner_id, reference, utcnow()
        db.add(address)
        db.commit()


def personal(engine: Engine, learner_id: str, platform: str) -> dict | None:
    """The reference of the learner's personal chat with the coach on this platform, if they have one."""
    return _reference(engine, f"{platform}:personal:{learner_id}")


def member(engine: Engine, learner_id: str, platform: str) -> dict | None:
    """Where the coach met the learner in a channel: enough to open a personal chat with them."""
    return _reference(engine, f"{platform}:member:{learner_id}")


def _reference(engine: Engine, key: str) -> dict | None:
    with session(engine) as db:
        address = db.get(ChatAddress, key[:250])
    return address.reference if address else None


def channel(engine: Engine, platform: str, key: str) -> dict | None:
    return _reference(engine, f"{platform}:channel:{key}")


def of_learner(engine: Engine, learner_id: str) -> list[str]:
    """Where the coach can reach this learner, for "what do you know about me"."""
    with session(engine) as db:
        return [f"{a.platform.title()} " + ("personal chat" if a.kind == "personal" else "(met in a channel)")
                for a in db.exec(select(ChatAddress).where(ChatAddress.learner_id == learner_id))]


def forget(engine: Engine, learner_id: str) -> int:
    with session(engine) as db:
        removed = db.exec(delete(ChatAddress).where(ChatAddress.learner_id == learner_id)).rowcount
        db.commit()
    return removed
