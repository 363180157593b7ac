"""Managers' nudge schedules: who gets what, when. A recurrence is one of
`{"kind": "once", "at": "2026-12-01T09:00"}`, `{"kind": "daily", "time": "09:00"}`,
`{"kind": "weekdays", "time": "09:00"}`, `{"kind": "weekly", "days": ["mon", "thu"], "time": "09:00"}` or
`{"kind": "cron", "expr": "0 9 * * 1-5"}` (standard cron: day 0 is Sunday), in the schedule's time zone, or with
`zone_mode="learner"` in each learner's own (9:00 in Tokyo for some, 9:00 in Lisbon for others: one firing per zone)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.engine import Engine
from sqlalchemy import or_
from sqlmodel import select

from kernel.errors import ConfigError, Forbidden, NotFound
from coach.i18n import _
from coach.learners import outside_team, team_manager
from coach.messages import Action, Reply
from coach.nudges.policy import FOOTER
from kernel.store import session
from coach.store.models import Learner, NudgeSchedule
from kernel.text import shorten

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron's 0 and 7 are Sunday


def trigger(recurrence: dict, timezone: str):
    """The APScheduler trigger of a recurrence; ConfigError says what is wrong with it."""
    kind = recurrence.get("kind")
    try:
        zone = ZoneInfo(timezone)
        if kind == "once":
            return DateTrigger(datetime.fromisoformat(recurrence["at"]).replace(tzinfo=None), timezone=zone)
        if kind == "cron":
            minute, hour, day, month, weekdays = recurrence["expr"].split()
            return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                               day_of_week=_cron_days(weekdays), timezone=zone)
        hour, minute = (int(part) for part in recurrence.get("time", "09:00").split(":"))
        days = {"daily": "*", "weekdays": "mon-fri"}.get(kind) or ",".join(_days(recurrence.get("days", [])))
        if kind not in ("daily", "weekdays", "weekly"):
            raise ValueError(f"unknown kind {kind!r}")
        return CronTrigger(hour=hour, minute=minute, day_of_week=days, timezone=zone)
    except (KeyError, ValueError, TypeError, ZoneInfoNotFoundError) as exc:
        raise ConfigError(f"cannot schedule {recurrence} in {timezone}: {exc}. Use once (at), daily / weekdays "
                          "(time HH:MM), weekly (days mon..sun, time) or cron (five fields).") from exc


def _days(days: list[str]) -> list[str]:
    chosen = [d.strip().lower()[:3] for d in days]
    if not chosen or any(d not in DAYS for d in chosen):
        raise ValueError(f"weekly needs days among {', '.join(DAYS)}")
    return chosen


def _cron_days(field: str) -> str:
    """Standard cron's day-of-week numbers (0 = Sunday) as names: APScheduler counts from Monday."""
    def name(token: str) -> str:
        return _CRON_DAYS[int(token)] if token.isdigit() else token

    return ",".join("-".join(name(t) for t in part.split("-")) for part in field.split(","))


ZONE_MODES = ("schedule", "learner")


def next_time(schedule: NudgeSchedule, after: datetime, zone: str = "") -> datetime | None:
    return trigger(schedule.recurrence, zone or schedule.timezone).get_next_fire_time(None, after)


def create(engine: Engine, *, owner: str, recurrence: dict, timezone: str = "UTC", team: str = "",
           learners: list[str] | None = None, channel: str = "", message: str = "", lesson_key: str = "",
           zone_mode: str = "schedule", grace_s: int = 3600) -> NudgeSchedule:
    schedule = _checked(NudgeSchedule(id=uuid.uuid4().hex, owner=owner, team=team, learners=list(learners or []),
                                      channel=channel, message=message.strip(), lesson_key=lesson_key,
                                      recurrence=recurrence, timezone=timezone, zone_mode=zone_mode, grace_s=grace_s))
    with session(engine) as db:
        db.add(schedule)
        db.commit()
        db.refresh(schedule)
    return schedule


def _checked(schedule: NudgeSchedule) -> NudgeSchedule:
    """Refuse, with what to fix, a schedule that could not be sent (now, not at its first firing)."""
    if not (schedule.message or schedule.lesson_key):
        raise ConfigError("a nudge needs a message, a lesson, or both")
    if not (schedule.team or schedule.learners or schedule.channel):
        raise ConfigError("a nudge needs a team, named learners or a channel")
    if schedule.zone_mode not in ZONE_MODES:
        raise ConfigError(f"zone mode {schedule.zone_mode!r}: use schedule (its own time zone) or learner (each "
                          "learner's)")
    trigger(schedule.recurrence, schedule.timezone)
    return schedule


def _found(db, schedule_id: str) -> NudgeSchedule:
    schedule = db.get(NudgeSchedule, schedule_id)
    if schedule is None:
        raise NotFound(f"No nudge schedule {schedule_id!r}: `coach nudges list` shows them.")
    return schedule


def of_owner(engine: Engine, owner: str | None = None) -> list[NudgeSchedule]:
    with session(engine) as db:
        query = select(NudgeSchedule).order_by(NudgeSchedule.created_at)
        return list(db.exec(query.where(NudgeSchedule.owner == owner) if owner else query).all())


def get(engine: Engine, schedule_id: str) -> NudgeSchedule:
    with session(engine) as db:
        return _found(db, schedule_id)


def edit(engine: Engine, schedule_id: str, **changes) -> NudgeSchedule:
    """Change a schedule's message, lesson, audience, recurrence, time zone or grace (None: leave as it is). The
    worker re-plans its next firing on its next sync."""
    allowed = {"message", "lesson_key", "team", "learners", "channel", "recurrence", "timezone", "zone_mode", "grace_s"}
    changes = {name: value for name, value in changes.items() if value is not None}
    if set(changes) - allowed:
        raise ConfigError(f"cannot change {sorted(set(changes) - allowed)}")
    with session(engine) as db:
        schedule = _found(db, schedule_id)
        for name, value in changes.items():
            setattr(schedule, name, value.strip() if name == "message" else value)
        db.add(_checked(schedule))
        db.commit()
        db.refresh(schedule)
        return schedule


def set_paused(engine: Engine, schedule_id: str, paused: bool) -> NudgeSchedule:
    with session(engine) as db:
        schedule = _found(db, schedule_id)
        schedule.paused = paused
        db.add(schedule)
        db.commit()
        db.refresh(schedule)
        return schedule


def delete(engine: Engine, schedule_id: str) -> None:
    with session(engine) as db:
        db.delete(_found(db, schedule_id))
        db.commit()


def recipients(engine: Engine, schedule: NudgeSchedule, zone: str = "") -> list[str]:
    """Who a firing goes to: the named learners and the team's members as they are now (only those living in
    `zone`, for one zone's firing of a schedule in learner mode), or the channel."""
    if schedule.channel:
        return [schedule.channel]
    return sorted(learner for learner, their_zone in _zones(engine, schedule).items() if not zone or their_zone == zone)


def zones(engine: Engine, schedule: NudgeSchedule) -> list[str]:
    """The time zones a schedule fires in: its own, or in learner mode each of its recipients' ("" = its own)."""
    if schedule.zone_mode != "learner" or schedule.channel:
        return [""]
    return sorted(set(_zones(engine, schedule).values()))


def _zones(engine: Engine, schedule: NudgeSchedule) -> dict[str, str]:
    with session(engine) as db:
        found = {l.id: l for l in db.exec(select(Learner).where(
            or_(Learner.team == schedule.team, Learner.id.in_(schedule.learners)) if schedule.team
            else Learner.id.in_(schedule.learners))).all()}
    people = set(schedule.learners) | {i for i, l in found.items() if schedule.team and l.team == schedule.team}
    return {p: (found[p].timezone if p in found and schedule.zone_mode == "learner" else schedule.timezone)
            for p in people}


def reply_for(engine: Engine, schedule: NudgeSchedule) -> Reply:
    """What a learner receives: the manager's message, and the lesson to start with one tap."""
    from coach.lessons import catalog

    lesson = catalog.get(engine, schedule.lesson_key) if schedule.lesson_key else None
    actions = [Action("lesson", shorten(_("Start: {title}").format(title=lesson.title), 75), lesson.key)] if lesson else []
    text = schedule.message or (_("A micro-lesson for you: **{title}** ({minutes} min).").format(
        title=lesson.title, minutes=lesson.minutes) if lesson else "")
    return Reply(text=f"{text}\n\n{_(FOOTER)}", mode="service", actions=actions)


def check_manager(engine: Engine, manager_id: str, team: str, learners: list[str]) -> None:
    """Only a manager of a team may nudge it (role `manager` and that team in their profile, set by an admin with
    `coach learners set ID --role manager --team TEAM`); named learners must be in the manager's team too."""
    manager = team_manager(engine, manager_id)
    if manager is None:
        raise Forbidden(f"{manager_id} is not a manager of a team, so they cannot schedule nudges; an admin can make "
                        "them one with `coach learners set ID --role manager --team TEAM`.")
    if team and team != manager.team:
        raise Forbidden(f"{manager_id} manages {manager.team}, not {team}.")
    outside = outside_team(engine, manager.team, learners)
    if outside:
        raise Forbidden(f"{', '.join(outside)} not in {manager.team}, the team {manager_id} manages.")
