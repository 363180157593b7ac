"""The nudge form managers fill in from a chat (Slack's modal, Teams' card): one platform-neutral shape, checked
field by field (so each platform can show the error next to its field), then saved as a schedule of the manager's
own team. Connectors only map their inputs onto `NudgeForm` and its choices onto their widgets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from kernel.errors import CoachError, Forbidden
from coach.learners import outside_team, team_manager
from coach.lessons import catalog
from coach.nudges import schedules
from coach.store.models import Learner, NudgeSchedule
from kernel.store import utcnow

REPEATS = {"once": "Once", "daily": "Every day", "weekdays": "Weekdays (Mon-Fri)", "weekly": "Weekly, on chosen days",
           "cron": "Custom (cron)"}
TARGETS = {"team": "My whole team", "people": "Chosen people", "channel": "A channel"}
CHANNEL = re.compile(r"^(slack:[^:\s]+:[^:\s]+|teams:channel:\S+)$")  # see NudgeSchedule.channel
MAX_MESSAGE = 2_000
DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


@dataclass
class NudgeForm:
    message: str = ""
    lesson_key: str = ""
    target: str = "team"  # team | people | channel
    people: list[str] = field(default_factory=list)  # learner ids
    channel: str = ""  # a channel recipient id (see NudgeSchedule.channel)
    repeat: str = "weekdays"
    date: str = ""  # YYYY-MM-DD, for once
    time: str = "09:00"  # HH:MM
    days: list[str] = field(default_factory=list)  # mon..sun, for weekly
    cron: str = ""
    each_learners_zone: bool = False

    @classmethod
    def of(cls, schedule: NudgeSchedule) -> "NudgeForm":
        """A schedule back in the form, to edit it."""
        rec = schedule.recurrence
        at = datetime.fromisoformat(rec["at"]) if rec.get("kind") == "once" else None
        return cls(message=schedule.message, lesson_key=schedule.lesson_key,
                   target="channel" if schedule.channel else "team" if schedule.team else "people",
                   people=list(schedule.learners), channel=schedule.channel, repeat=rec.get("kind", "weekdays"),
                   date=at.date().isoformat() if at else "", time=at.strftime("%H:%M") if at else rec.get("time", ""),
                   days=list(rec.get("days", [])), cron=rec.get("expr", ""),
                   each_learners_zone=schedule.zone_mode == "learner")

    def recurrence(self) -> dict:
        if self.repeat == "once":
            return {"kind": "once", "at": f"{self.date}T{self.time}"}
        if self.repeat == "cron":
            return {"kind": "cron", "expr": self.cron.strip()}
        if self.repeat == "weekly":
            return {"kind": "weekly", "days": self.days, "time": self.time}
        return {"kind": self.repeat, "time": self.time}


def manager_of(engine: Engine, manager_id: str) -> Learner:
    manager = team_manager(engine, manager_id)
    if manager is None:
        raise Forbidden("Only a team's manager can schedule nudges. An admin makes someone one with "
                        "`coach learners set ID --role manager --team TEAM`.")
    return manager


def problems(engine: Engine, manager: Learner, form: NudgeForm) -> dict[str, str]:
    """Field name -> what to fix; empty when the form can be saved."""
    found: dict[str, str] = {}
    if not (form.message.strip() or form.lesson_key):
        found["message"] = "Write a message, pick a lesson, or both."
    elif len(form.message) > MAX_MESSAGE:
        found["message"] = f"At most {MAX_MESSAGE:,} characters."
    if form.lesson_key and getattr(catalog.get(engine, form.lesson_key), "status", "") != "approved":
        found["lesson_key"] = "That lesson is not approved (any more): choose another."
    if form.target not in TARGETS:
        found["target"] = "Choose who gets it."
    if form.target == "people" and not form.people:
        found["people"] = "Choose at least one person."
    if form.target == "channel" and not CHANNEL.match(form.channel):
        found["channel"] = "Choose the channel." if not form.channel else \
            "A channel as slack:TEAM_ID:CHANNEL_ID or teams:channel:CHANNEL_ID."
    if form.target == "people" and form.people:
        outside = outside_team(engine, manager.team, form.people)
        if outside:
            found["people"] = f"{len(outside)} of them not in {manager.team}: you can nudge your own team only."
    if form.repeat not in REPEATS:
        found["repeat"] = "Choose how often."
    elif form.repeat == "once" and not form.date:
        found["date"] = "Choose the day."
    elif form.repeat == "weekly" and not form.days:
        found["days"] = "Choose at least one day."
    elif form.repeat == "cron" and len(form.cron.split()) != 5:
        found["cron"] = "Five fields: minute hour day month weekday, e.g. 0 9 * * 1-5."
    if form.repeat != "cron" and not _is_time(form.time):
        found["time"] = "A time as HH:MM."
    if {"repeat", "date", "days", "cron", "time"} & set(found):
        return found
    try:
        when = schedules.trigger(form.recurrence(), manager.timezone)
    except CoachError as exc:
        found["cron" if form.repeat == "cron" else "date" if form.repeat == "once" else "time"] = \
            str(exc).split(". Use")[0]
        return found
    if form.repeat == "once" and when.run_date <= utcnow():  # a DateTrigger gives its date whatever `now` is
        found["date"] = "That moment has passed."
    return found


def save(engine: Engine, manager: Learner, form: NudgeForm, schedule_id: str = "") -> NudgeSchedule:
    """Create the schedule (or change the manager's own `schedule_id`), in the manager's time zone."""
    audience = dict(team=manager.team if form.target == "team" else "",
                    learners=form.people if form.target == "people" else [],
                    channel=form.channel if form.target == "channel" else "")
    common = dict(message=form.message, lesson_key=form.lesson_key, recurrence=form.recurrence(),
                  timezone=manager.timezone, zone_mode="learner" if form.each_learners_zone else "schedule")
    if not schedule_id:
        return schedules.create(engine, owner=manager.id, **audience, **common)
    owned(engine, manager.id, schedule_id)
    return schedules.edit(engine, schedule_id, **audience, **common)


def owned(engine: Engine, manager_id: str, schedule_id: str) -> NudgeSchedule:
    """The manager's own schedule, or Forbidden: a manager sees and changes only what they scheduled."""
    schedule = schedules.get(engine, schedule_id)
    if schedule.owner != manager_id:
        raise Forbidden("That nudge was scheduled by someone else.")
    return schedule


def describe(schedule: NudgeSchedule, now: datetime | None = None) -> str:
    """One line a manager recognises their schedule by."""
    rec = schedule.recurrence
    when = {"once": f"once, {rec.get('at', '').replace('T', ' ')}", "daily": f"every day at {rec.get('time')}",
            "weekdays": f"weekdays at {rec.get('time')}",
            "weekly": f"{', '.join(DAY_NAMES.get(d, d) for d in rec.get('days', []))} at {rec.get('time')}",
            "cron": f"cron {rec.get('expr')}"}.get(rec.get("kind"), str(rec))
    zone = "each person's time" if schedule.zone_mode == "learner" else schedule.timezone
    to = "a channel" if schedule.channel else f"team {schedule.team}" if schedule.team else \
        f"{len(schedule.learners)} people"
    what = (schedule.message or f"lesson {schedule.lesson_key}")[:60]
    try:
        nxt = None if schedule.paused else schedules.next_time(schedule, now or utcnow())
    except CoachError:  # a schedule written before its rules were checked: said, not a broken page
        return f"{(schedule.message or schedule.lesson_key)[:60]} - cannot be scheduled as it is: edit it"
    state = "paused" if schedule.paused else f"next {nxt:%a %d %b %H:%M} UTC" if nxt else "done"
    return f"{what} - {when} ({zone}) to {to}; {state}"


def lesson_choices(engine: Engine) -> list[tuple[str, str]]:
    """(key, title) of the approved lessons a nudge can carry."""
    return [(lesson.key, lesson.title) for lesson in catalog.listing(engine, "approved")]


def _is_time(value: str) -> bool:
    try:
        datetime.strptime(value, "%H:%M")
    except ValueError:
        return False
    return True
