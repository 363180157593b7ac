"""Learner profiles: the audience groups that decide what content they may see, and their names."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.errors import ConfigError
from coach.store.db import session
from coach.store.models import Learner


def groups_of(engine: Engine, learner_id: str) -> list[str] | None:
    """The learner's audience groups (`everyone` is implied); None for an unknown learner."""
    with session(engine) as db:
        learner = db.get(Learner, learner_id)
    return list(learner.groups) if learner else None


PROFILE_FIELDS = ("display_name", "groups", "role", "team", "timezone", "language", "preferences", "paused")


def update_profile(engine: Engine, learner_id: str, **changes) -> Learner:
    """Create or update a learner; only the given fields change (None means: leave as it is)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"unknown profile fields: {sorted(unknown)}")
    if changes.get("timezone"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(changes["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {changes['timezone']!r}: use a name such as Europe/Amsterdam") from exc
    with session(engine) as db:
        learner = db.get(Learner, learner_id) or Learner(id=learner_id)
        for name, value in changes.items():
            if value is not None:
                setattr(learner, name, sorted(set(value)) if name == "groups" else value)
        db.add(learner)
        db.commit()
        return learner


def display_names(engine: Engine) -> list[str]:
    """Learners' names, so the redactor can take them out of questions."""
    with session(engine) as db:
        return [name for name in db.exec(select(Learner.display_name)).all() if name]
