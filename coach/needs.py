"""The needs log: every question, redacted and tagged, answered or declined, rated later by the learner.

A declined question is a content gap for L&D. Only redacted text is ever stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from coach import addresses
from coach.i18n import _
from coach.lessons import service as lessons
from coach.xapi import capture, outbox
from kernel.errors import NotFound
from kernel.store import session, utcnow
from coach.store.models import Learner, LearnerPublic, Need, NeedPublic

FEEDBACK = ("helpful", "not_helpful")


def record(engine: Engine, *, learner_id: str, channel: str, platform: str, question: str, topics: list[str],
           answered: bool, confidence: float, sources: list[str], not_covered: list[str] | None = None) -> Need:
    """`not_covered`: answered in part: what the question named that the content does not mention."""
    need = Need(id=uuid.uuid4().hex, learner_id=learner_id, channel=channel, platform=platform, question=question,
                topics=topics, answered=answered, confidence=round(confidence, 4), sources=sources,
                not_covered=not_covered or [])
    with session(engine) as db:
        db.add(need)
        db.commit()
    return need


def topics_of(engine: Engine, *, need_id: str, learner_id: str) -> list[str]:
    """The competencies of one of this learner's questions ([] for another's, or one deleted)."""
    with session(engine) as db:
        need = db.get(Need, need_id) if need_id else None
        return list(need.topics) if need is not None and need.learner_id == learner_id else []


def asked_since(engine: Engine, learner_id: str, since: datetime) -> int:
    """How many questions the learner asked since then (the rate limit's count, shared by all replicas)."""
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(Need).where(Need.learner_id == learner_id,
                                                                    Need.created_at >= since)).one()


def give_feedback(engine: Engine, *, need_id: str, learner_id: str, feedback: str, note: str | None = None) -> Need:
    """Only the learner who asked can rate the answer."""
    if feedback not in FEEDBACK:
        raise ValueError(f"feedback must be one of {FEEDBACK}")
    with session(engine) as db:
        need = db.get(Need, need_id)
        if need is None or need.learner_id != learner_id:
            raise NotFound(_("That answer is no longer on record (it may have been deleted at your request)."))
        need.feedback, need.feedback_at = feedback, utcnow()
        if note is not None:
            need.feedback_note = note
        db.add(need)
        db.commit()
        return need


def needs_of(engine: Engine, learner_id: str) -> list[NeedPublic]:
    with session(engine) as db:
        rows = db.exec(select(Need).where(Need.learner_id == learner_id).order_by(Need.created_at)).all()
    return [NeedPublic.model_validate(row, from_attributes=True) for row in rows]


def export(engine: Engine, learner_id: str, now: datetime | None = None) -> dict:
    """Everything kept about a learner ("what do you know about me?"); `now` decides which reviews are due."""
    with session(engine) as db:
        learner = db.get(Learner, learner_id)
    return {
        "learner_id": learner_id,
        "profile": LearnerPublic.model_validate(learner, from_attributes=True).model_dump(mode="json") if learner else None,
        "questions": [n.model_dump(mode="json") for n in needs_of(engine, learner_id)],
        "reachable_in": addresses.of_learner(engine, learner_id),
        "lessons": lessons.progress(engine, learner_id, now or utcnow()),
    }


def forget(engine: Engine, learner_id: str) -> dict[str, int]:
    """Delete everything kept about a learner ("forget me"); returns what was deleted."""
    with session(engine) as db:
        needs = db.exec(delete(Need).where(Need.learner_id == learner_id)).rowcount
        profiles = db.exec(delete(Learner).where(Learner.id == learner_id)).rowcount
        db.commit()
    return {"questions": needs, "profile": profiles, "chat_addresses": addresses.forget(engine, learner_id),
            "lesson_records": lessons.forget(engine, learner_id),
            "learning_records": outbox.forget(engine, learner_id, capture.profile_of(engine))}
