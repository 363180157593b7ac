"""Learner profiles: the audience groups that decide what content they may see, and their names."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from coach import i18n
from kernel.errors import ConfigError
from kernel.store import session
from coach.store.models import Learner


def find(engine: Engine, learner_id: str) -> Learner | None:
    with session(engine) as db:
        return db.get(Learner, learner_id)


def groups_of(engine: Engine, learner_id: str) -> list[str] | None:
    """The learner's audience groups (`everyone` is implied); None for an unknown learner."""
    learner = find(engine, learner_id)
    return list(learner.groups) if learner else None


def chosen_language(learner: Learner | None) -> str | None:
    """The language the learner asked for ("speak Dutch"), which wins over every other sign."""
    return i18n.supported((learner.preferences or {}).get("language")) if learner else None


def language_of(engine: Engine, learner_id: str) -> str:
    """The language to say things in to this learner outside a reply to their message (a nudge, a lesson, a Home
    tab): the one they chose, else the one they last wrote in or their platform's (the profile), else English."""
    return language(find(engine, learner_id))


def language(learner: Learner | None) -> str:
    """`language_of` for a profile already read."""
    return chosen_language(learner) or i18n.supported(learner.language if learner else None) or i18n.LANGUAGES[0]


PROFILE_FIELDS = ("display_name", "groups", "role", "team", "timezone", "language", "preferences", "paused")


def update_profile(engine: Engine, learner_id: str, **changes) -> Learner:
    """Create or update a learner; only the given fields change (None means: leave as it is)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"unknown profile fields: {sorted(unknown)}")
    if changes.get("timezone") and not valid_timezone(changes["timezone"]):
        raise ConfigError(f"unknown time zone {changes['timezone']!r}: use a name such as Europe/Amsterdam")
    with session(engine) as db:
        learner = db.get(Learner, learner_id) or Learner(id=learner_id)
        for name, value in changes.items():
            if value is not None:
                setattr(learner, name, sorted(set(value)) if name == "groups" else value)
        db.add(learner)
        db.commit()
        return learner


def valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def team_manager(engine: Engine, learner_id: str) -> Learner | None:
    """The learner's profile when it manages a team (role `manager` and a team set, by an admin with
    `coach learners set ID --role manager --team TEAM`); None otherwise."""
    with session(engine) as db:
        learner = db.get(Learner, learner_id)
    return learner if learner is not None and learner.role == "manager" and learner.team else None


def outside_team(engine: Engine, team: str, learner_ids: list[str]) -> list[str]:
    """Those of `learner_ids` whose profile is not in `team` (unknown ones included), in the order given."""
    with session(engine) as db:
        teams = dict(db.exec(select(Learner.id, Learner.team).where(Learner.id.in_(learner_ids))).all())
    return [learner for learner in learner_ids if teams.get(learner) != team]


def display_names(engine: Engine) -> list[str]:
    """Learners' names, so the redactor can take them out of questions."""
    with session(engine) as db:
        return [name for name in db.exec(select(Learner.display_name)).all() if name]


def names_fingerprint(engine: Engine) -> tuple[int, int]:
    """How many learners have a name and how long the names are in all: changes when a name is added or changed."""
    with session(engine) as db:
        count, length = db.exec(select(func.count(Learner.display_name), func.sum(func.length(Learner.display_name)))
                                .where(Learner.display_name != "")).one()
    return int(count or 0), int(length or 0)


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
