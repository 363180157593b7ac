"""The nudge form managers fill in from a chat (Slack's modal, Teams' card): one platform-neutral shape, checked
field by field (so each platform can show the error next to its field), then saved as a schedule of the manager's
own team. Connectors only map their inputs onto `NudgeForm` and its choices onto their widgets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from kernel.errors import CoachError, Forbidden
from coach.i18n import N_, SHORT_MONTHS, _, ngettext
from coach.learners import outside_team, team_manager
from coach.lessons import catalog
from coach.nudges import schedules
from coach.store.models import Learner, NudgeSchedule
from kernel.store import utcnow

# the form's choices, as labels to `_()` where they are shown
REPEATS = {"once": N_("Once"), "daily": N_("Every day"), "weekdays": N_("Weekdays (Mon-Fri)"),
           "weekly": N_("Weekly, on chosen days"), "cron": N_("Custom (cron)")}
TARGETS = {"team": N_("My whole team"), "people": N_("Chosen people"), "channel": N_("A channel")}
CHANNEL = re.compile(r"^(slack:[^:\s]+:[^:\s]+|teams:channel:\S+)$")  # see NudgeSchedule.channel
MAX_MESSAGE = 2_000
DAY_NAMES = {"mon": N_("Mon"), "tue": N_("Tue"), "wed": N_("Wed"), "thu": N_("Thu"), "fri": N_("Fri"),
             "sat": N_("Sat"), "sun": N_("Sun")}


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
        raise Forbidden(_("Only a team's manager can schedule nudges. An admin makes someone one with "
                          "`coach learners set ID --role manager --team TEAM`."))
    return manager


def problems(engine: Engine, manager: Learner, form: NudgeForm) -> dict[str, str]:
    """Field name -> what to fix; empty when the form can be saved."""
    found: dict[str, str] = {}
    if not (form.message.strip() or form.lesson_key):
        found["message"] = _("Write a message, pick a lesson, or both.")
    elif len(form.message) > MAX_MESSAGE:
        found["message"] = _("At most {count} characters.").format(count=f"{MAX_MESSAGE:,}")
    if form.lesson_key and getattr(catalog.get(engine, form.lesson_key), "status", "") != "approved":
        found["lesson_key"] = _("That lesson is not approved (any more): choose another.")
    if form.target not in TARGETS:
        found["target"] = _("Choose who gets it.")
    if form.target == "people" and not form.people:
        found["people"] = _("Choose at least one person.")
    if form.target == "channel" and not CHANNEL.match(form.channel):
        found["channel"] = _("Choose the channel.") if not form.channel else \
            _("A channel as slack:TEAM_ID:CHANNEL_ID or teams:channel:CHANNEL_ID.")
    if form.target == "people" and form.people:
        outside = outside_team(engine, manager.team, form.people)
        if outside:
            found["people"] = ngettext("{count} of them not in {team}: you can nudge your own team only.",
                                       "{count} of them not in {team}: you can nudge your own team only.",
                                       len(outside)).format(count=len(outside), team=manager.team)
    if form.repeat not in REPEATS:
        found["repeat"] = _("Choose how often.")
    elif form.repeat == "once" and not form.date:
        found["date"] = _("Choose the day.")
    elif form.repeat == "weekly" and not form.days:
        found["days"] = _("Choose at least one day.")
    elif form.repeat == "cron" and len(form.cron.split()) != 5:
        found["cron"] = _("Five fields: minute hour day month weekday, e.g. 0 9 * * 1-5.")
    if form.repeat != "cron" and not _is_time(form.time):
        found["time"] = _("A time as HH:MM.")
    if {"repeat", "date", "days", "cron", "time"} & set(found):
        return found
    try:
        when = schedules.trigger(form.recurrence(), manager.timezone)
    except CoachError as exc:
        found["cron" if form.repeat == "cron" else "date" if form.repeat == "once" else "time"] = \
            str(exc).split(". Use")[0]
        return found
    if form.repeat == "once" and when.run_date <= utcnow():  # a DateTrigger gives its date whatever `now` is
        found["date"] = _("That moment has passed.")
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
        raise Forbidden(_("That nudge was scheduled by someone else."))
    return schedule


def describe(schedule: NudgeSchedule, now: datetime | None = None) -> str:
    """One line a manager recognises their schedule by."""
    rec = schedule.recurrence
    time, days = rec.get("time"), ", ".join(_(DAY_NAMES[d]) if d in DAY_NAMES else d for d in rec.get("days", []))
    when = {"once": _("once, {at}").format(at=rec.get("at", "").replace("T", " ")),
            "daily": _("every day at {time}").format(time=time), "weekdays": _("weekdays at {time}").format(time=time),
            "weekly": _("{days} at {time}").format(days=days, time=time),
            "cron": _("cron {expr}").format(expr=rec.get("expr"))}.get(rec.get("kind"), str(rec))
    zone = _("each person's time") if schedule.zone_mode == "learner" else schedule.timezone
    people = len(schedule.learners)
    to = _("a channel") if schedule.channel else _("team {team}").format(team=schedule.team) if schedule.team else \
        ngettext("{count} person", "{count} people", people).format(count=people)
    what = (schedule.message or _("lesson {key}").format(key=schedule.lesson_key))[:60]
    try:
        nxt = None if schedule.paused else schedules.next_time(schedule, now or utcnow())
    except CoachError:  # a schedule written before its rules were checked: said, not a broken page
        return _("{what} - cannot be scheduled as it is: edit it").format(
            what=(schedule.message or schedule.lesson_key)[:60])
    state = _("paused") if schedule.paused else _("next {moment} UTC").format(moment=_moment(nxt)) if nxt else \
        _("done")
    return _("{what} - {when} ({zone}) to {to}; {state}").format(what=what, when=when, zone=zone, to=to, state=state)


def _moment(at: datetime) -> str:
    """"Tue 01 Dec 09:00" in the words of the language spoken (strftime's %a and %b follow the server's locale)."""
    weekday, month = _(DAY_NAMES[schedules.DAYS[at.weekday()]]), _(SHORT_MONTHS[at.month - 1])
    return f"{weekday} {at:%d} {month} {at:%H:%M}"


def lesson_choices(engine: Engine) -> list[tuple[str, str]]:
    """(key, title) of the approved lessons a nudge can carry."""
    return [(lesson.key, lesson.title) for lesson in catalog.listing(engine, "approved")]


def _is_time(value: str) -> bool:
    try:
        datetime.strptime(value, "%H:%M")
    except ValueError:
        return False
    return True
