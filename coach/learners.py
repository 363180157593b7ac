"""Learner profiles: the audience groups that decide what content they may see, and their names."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.store.db import session
from coach.store.models import Learner


def groups_of(engine: Engine, learner_id: str) -> list[str] | None:
    """The learner's audience groups (`everyone` is implied); None for an unknown learner."""
    with session(engine) as db:
        learner = db.get(Learner, learner_id)
    return list(learner.groups) if learner else None


def set_groups(engine: Engine, learner_id: str, groups: list[str], display_name: str = "") -> Learner:
    with session(engine) as db:
        learner = db.get(Learner, learner_id) or Learner(id=learner_id)
        learner.groups = sorted(set(groups))
        if display_name:
            learner.display_name = display_name
        db.add(learner)
        db.commit()
        return learner


def display_names(engine: Engine) -> list[str]:
    """Learners' names, so the redactor can take them out of questions."""
    with session(engine) as db:
        return [name for name in db.exec(select(Learner.display_name)).all() if name]
