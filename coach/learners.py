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


def parse_preferences(items: list[str], current: dict) -> dict:
    """`lesson_minutes=5`, `days=0-4` or `days=0,2,4` (0 = Monday), `hours=9-17`, merged into `current`."""
    preferences = dict(current)
    for item in items:
        key, _, value = item.partition("=")
        key, value = key.strip(), value.strip().replace(" ", "")
        try:
            if key == "lesson_minutes" and 1 <= int(value) <= 30:
                preferences[key] = int(value)
            elif key == "days":
                first, _, last = value.partition("-")
                days = list(range(int(first), int(last) + 1)) if last else [int(d) for d in value.split(",")]
                if not days or not all(0 <= d <= 6 for d in days):
                    raise ValueError
                preferences[key] = days
            elif key == "hours":
                start, end = (int(h) for h in value.split("-"))
                if not 0 <= start < end <= 24:
                    raise ValueError
                preferences[key] = [start, end]
            else:
                raise ValueError
        except ValueError as exc:
            raise ConfigError(f"cannot use preference {item!r}: use lesson_minutes=1..30, days=0-4 or days=0,2,4 "
                              "(0 = Monday), hours=9-17") from exc
    return preferences
