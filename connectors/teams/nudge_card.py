"""Managers schedule nudges in Teams: "nudge" in the coach's personal chat shows the nudge form
(coach/nudges/forms.py) as an Adaptive Card; Save checks it field by field and either shows the card again with
each problem under its field, or saves and replaces it with the manager's nudges, each with Edit, Pause/Resume and
Delete. "my nudges" shows that list. Everyone else is told who can schedule nudges."""

from __future__ import annotations

from kernel.errors import CoachError
from coach.i18n import N_, _
from coach.nudges import forms, schedules
from coach.nudges.forms import DAY_NAMES, REPEATS, NudgeForm
from coach.services.people import team_members
from coach.store.models import Learner
from connectors.teams.cards import card, text_block

REQUESTS = {"nudge": "form", "schedule a nudge": "form", "new nudge": "form", "nudges": "list",
            "my nudges": "list"}
TARGETS = {"team": N_("My whole team"), "people": N_("Chosen people")}  # channels: from Slack or the CLI
TOGGLES = {"pause": N_("Pause"), "resume": N_("Resume")}


def request_of(text: str) -> str | None:
    return REQUESTS.get(text.strip().lower().rstrip(".!?"))


def is_nudge_verb(verb: object) -> bool:
    return isinstance(verb, str) and verb.startswith("nudge_")


def _choices(pairs, translated: bool = False) -> list[dict]:
    """`translated`: the titles are the form's own labels (marked with N_), not names or lesson titles."""
    return [{"title": (_(title) if translated else title)[:80], "value": value} for value, title in pairs]


def _problem(problems: dict[str, str], name: str) -> list[dict]:
    return [text_block(problems[name], color="Attention", size="Small", spacing="None")] if name in problems else []


def form_card(engine, manager: Learner, form: NudgeForm, schedule_id: str = "",
              problems: dict[str, str] | None = None) -> dict:
    problems = problems or {}
    members = team_members(engine, manager)
    lessons = forms.lesson_choices(engine)
    body = [
        text_block(_("Edit nudge") if schedule_id else _("Schedule a nudge for {team}").format(team=manager.team),
                   weight="Bolder", size="Medium"),
        {"type": "Input.Text", "id": "message", "label": _("Message"), "isMultiline": True, "maxLength": 2000,
         "value": form.message, "placeholder": _("What your team reads. A lesson alone is fine too.")},
        *_problem(problems, "message"),
        {"type": "Input.ChoiceSet", "id": "lesson_key", "label": _("Micro-lesson (optional)"), "style": "compact",
         "choices": _choices(lessons), "value": form.lesson_key, "placeholder": _("No lesson")},
        *_problem(problems, "lesson_key"),
        {"type": "Input.ChoiceSet", "id": "target", "label": _("Send to"), "style": "expanded",
         "choices": _choices(TARGETS.items(), True), "value": form.target if form.target in TARGETS else "team"},
        {"type": "Input.ChoiceSet", "id": "people", "label": _("People (if chosen people)"), "isMultiSelect": True,
         "choices": _choices((m.id, m.name) for m in members), "value": ",".join(form.people)},
        *_problem(problems, "people"),
        {"type": "Input.ChoiceSet", "id": "repeat", "label": _("When"), "style": "compact",
         "choices": _choices(REPEATS.items(), True), "value": form.repeat},
        *_problem(problems, "repeat"),
        {"type": "Input.Date", "id": "date", "label": _("Day (if once)"), "value": form.date},
        *_problem(problems, "date"),
        {"type": "Input.Time", "id": "time", "label": _("Time"), "value": form.time or "09:00"},
        *_problem(problems, "time"),
        {"type": "Input.ChoiceSet", "id": "days", "label": _("Days (if weekly)"), "isMultiSelect": True,
         "style": "expanded", "choices": _choices(DAY_NAMES.items(), True), "value": ",".join(form.days)},
        *_problem(problems, "days"),
        {"type": "Input.Text", "id": "cron", "label": _("Cron (if custom): minute hour day month weekday"),
         "value": form.cron, "placeholder": "0 9 * * 1-5"},
        *_problem(problems, "cron"),
        {"type": "Input.Toggle", "id": "each_learners_zone", "title": _("At that time in each person's own time zone"),
         "label": _("Time zone (otherwise {zone})").format(zone=manager.timezone),
         "value": "true" if form.each_learners_zone else "false", "valueOn": "true", "valueOff": "false"},
    ]
    save = {"type": "Action.Execute", "title": _("Save"), "verb": "nudge_save", "style": "positive",
            "data": {"coach": "nudge_save", "value": schedule_id}}
    return card(body, [save])


def form_of(data: dict) -> NudgeForm:
    """The card's inputs (Teams sends multi-selects as comma-separated values) as the core's form."""
    def listed(name: str) -> list[str]:
        return [part for part in str(data.get(name) or "").split(",") if part]

    return NudgeForm(message=str(data.get("message") or ""), lesson_key=str(data.get("lesson_key") or ""),
                     target=str(data.get("target") or "team"), people=listed("people"),
                     repeat=str(data.get("repeat") or "weekdays"), date=str(data.get("date") or ""),
                     time=str(data.get("time") or "")[:5], days=listed("days"), cron=str(data.get("cron") or ""),
                     each_learners_zone=str(data.get("each_learners_zone")).lower() == "true")


def listing_card(engine, manager: Learner, headline: str = "") -> dict:
    found = schedules.of_owner(engine, manager.id)
    body = [text_block(headline, weight="Bolder")] if headline else []
    body.append(text_block(_("Your nudges"), weight="Bolder") if found else
                text_block(_("You have no nudges scheduled. Say *nudge* to schedule one.")))
    for schedule in found:
        toggle = "resume" if schedule.paused else "pause"
        body.append({"type": "Container", "separator": True, "items": [
            text_block(forms.describe(schedule), size="Small"),
            {"type": "ActionSet", "actions": [
                _button("edit", _("Edit"), schedule.id), _button(toggle, _(TOGGLES[toggle]), schedule.id),
                _button("delete", _("Delete"), schedule.id) | {"style": "destructive"}]}]})
    return card(body, [_button("new", _("Schedule a nudge"), "")])


def _button(kind: str, title: str, schedule_id: str) -> dict:
    return {"type": "Action.Execute", "title": title, "verb": f"nudge_{kind}",
            "data": {"coach": f"nudge_{kind}", "value": schedule_id}}


def respond(engine, learner: str, verb: str, data: dict) -> dict | str:
    """A card (the form, or the manager's list) for a request or a button, or a short refusal, in the language being
    spoken (the caller's `speaking`)."""
    try:
        manager = forms.manager_of(engine, learner)
        schedule_id = str(data.get("value") or "")
        if verb in ("form", "nudge_new"):
            return form_card(engine, manager, NudgeForm(time="09:00"))
        if verb == "list":
            return listing_card(engine, manager)
        if verb == "nudge_save":
            form = form_of(data)
            if problems := forms.problems(engine, manager, form):
                return form_card(engine, manager, form, schedule_id, problems)
            schedule = forms.save(engine, manager, form, schedule_id)
            return listing_card(engine, manager, _("Saved: {schedule}").format(schedule=forms.describe(schedule)))
        schedule = forms.owned(engine, learner, schedule_id)
        if verb == "nudge_edit":
            return form_card(engine, manager, NudgeForm.of(schedule), schedule.id)
        if verb == "nudge_delete":
            schedules.delete(engine, schedule.id)
            return listing_card(engine, manager, _("Deleted."))
        if verb in ("nudge_pause", "nudge_resume"):
            schedules.set_paused(engine, schedule.id, verb == "nudge_pause")
            return listing_card(engine, manager, _("Paused.") if verb == "nudge_pause" else _("Resumed."))
        return _("I don't know that button.")
    except CoachError as exc:
        return str(exc)
