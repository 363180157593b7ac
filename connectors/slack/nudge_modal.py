"""`/coach nudge` for managers: the nudge form (coach/nudges/forms.py) as a Slack modal, its submission back into
the form (errors shown next to their field), and `/coach nudges`: the manager's schedules with their buttons."""

from __future__ import annotations

import asyncio
import json
import re

from kernel.errors import CoachError
from coach.i18n import _, ngettext
from coach.nudges import forms, schedules
from coach.nudges.forms import DAY_NAMES, REPEATS, TARGETS, NudgeForm, describe
from coach.store.models import NudgeSchedule
from connectors.slack.delivery import learner_id, speaking_to

NUDGE_VIEW = "coach_nudge_form"
ACTION_PREFIX = "nudge:"  # nudge:edit / nudge:pause / nudge:resume / nudge:delete, value = schedule id
BLOCKS = {"message": "message", "lesson_key": "lesson", "target": "target", "people": "people", "channel": "channel",
          "repeat": "repeat", "date": "date", "time": "time", "days": "days", "cron": "cron",
          "each_learners_zone": "zone"}  # form field -> block_id
TITLE_LIMIT = 24  # characters of a modal's title and of its submit and close buttons


def _text(value: str, limit: int = 75) -> dict:
    return {"type": "plain_text", "text": value[:limit]}


def _option(value: str, label: str) -> dict:
    return {"text": _text(label), "value": value}


def _input(block: str, label: str, element: dict, optional: bool = False, hint: str = "") -> dict:
    found = {"type": "input", "block_id": block, "optional": optional, "label": _text(label),
             "element": {"action_id": block, **element}}
    return found | ({"hint": _text(hint)} if hint else {})


def _initial(options: list[dict], value: str) -> dict:
    chosen = next((o for o in options if o["value"] == value), None)
    return {"initial_option": chosen} if chosen else {}


def view(form: NudgeForm, lessons: list[tuple[str, str]], team_name: str, zone: str, schedule_id: str = "",
         slack_user=lambda learner: learner.rsplit(":", 1)[-1]) -> dict:
    """The modal, filled with `form` (a new nudge, or the schedule being edited), in the language spoken."""
    lesson_options = [_option(key, title) for key, title in lessons][:100]
    targets = [_option(k, _(v) if k != "team" else f"{_(v)} ({team_name})") for k, v in TARGETS.items()]
    repeats = [_option(k, _(v)) for k, v in REPEATS.items()]
    days = [_option(k, _(v)) for k, v in DAY_NAMES.items()]
    zones = [_option("team", _("My time zone ({zone})").format(zone=zone)),
             _option("learner", _("Each person's own time zone"))]
    lesson = {"type": "static_select", "placeholder": _text(_("No lesson")), "options": lesson_options,
              **_initial(lesson_options, form.lesson_key)} if lesson_options else None
    blocks = [
        _input("message", _("Message"), {"type": "plain_text_input", "multiline": True, "max_length": 2000,
                                         "initial_value": form.message}, optional=True,
               hint=_("What your team reads. A lesson alone is fine too.")),
        *([_input("lesson", _("Micro-lesson"), lesson, optional=True)] if lesson else []),
        _input("target", _("Send to"), {"type": "radio_buttons", "options": targets,
                                        **_initial(targets, form.target)}),
        _input("people", _("People (if chosen people)"), {"type": "multi_users_select",
                                                         "initial_users": [slack_user(p) for p in form.people]},
               optional=True),
        _input("channel", _("Channel (if a channel)"), {"type": "conversations_select", "filter": {
            "include": ["public", "private"], "exclude_bot_users": True},
            **({"initial_conversation": slack_user(form.channel)} if form.channel else {})}, optional=True),
        _input("repeat", _("When"), {"type": "static_select", "options": repeats, **_initial(repeats, form.repeat)}),
        _input("date", _("Day (if once)"), {"type": "datepicker",
                                            **({"initial_date": form.date} if form.date else {})}, optional=True),
        _input("time", _("Time"), {"type": "timepicker", "initial_time": form.time or "09:00"}, optional=True),
        _input("days", _("Days (if weekly)"), {"type": "checkboxes", "options": days,
                                               **({"initial_options": [d for d in days if d["value"] in form.days]}
                                                  if form.days else {})}, optional=True),
        _input("cron", _("Cron (if custom)"), {"type": "plain_text_input", "initial_value": form.cron,
                                               "placeholder": _text("0 9 * * 1-5")}, optional=True,
               hint=_("minute hour day month weekday; weekday 0 is Sunday")),
        _input("zone", _("Time zone"), {"type": "radio_buttons", "options": zones,
                                        **_initial(zones, "learner" if form.each_learners_zone else "team")}),
    ]
    title = _("Edit nudge") if schedule_id else _("Schedule a nudge")
    return {"type": "modal", "callback_id": NUDGE_VIEW, "private_metadata": json.dumps({"edit": schedule_id}),
            "title": _text(title, TITLE_LIMIT), "submit": _text(_("Save"), TITLE_LIMIT),
            "close": _text(_("Cancel"), TITLE_LIMIT), "blocks": blocks}


def form_of(state: dict, team: str) -> NudgeForm:
    """The submitted modal as the core's form; Slack ids become learner and channel ids of this workspace."""
    def value(block: str) -> dict:
        return state.get(block, {}).get(block, {})

    def chosen(block: str) -> str:
        return (value(block).get("selected_option") or {}).get("value", "")

    return NudgeForm(
        message=value("message").get("value") or "", lesson_key=chosen("lesson"), target=chosen("target") or "team",
        people=[f"slack:{team}:{user}" for user in value("people").get("selected_users") or []],
        channel=f"slack:{team}:{value('channel')['selected_conversation']}"
        if value("channel").get("selected_conversation") else "",
        repeat=chosen("repeat") or "weekdays", date=value("date").get("selected_date") or "",
        time=value("time").get("selected_time") or "", cron=value("cron").get("value") or "",
        days=[o["value"] for o in value("days").get("selected_options") or []],
        each_learners_zone=chosen("zone") == "learner")


def errors_of(problems: dict[str, str]) -> dict[str, str]:
    """The form's problems keyed by the modal's block ids, as `response_action: errors` wants them."""
    return {BLOCKS.get(name, "message"): text for name, text in problems.items()}


def listing_blocks(found: list[NudgeSchedule]) -> tuple[str, list[dict]]:
    """`/coach nudges`: each schedule with Edit, Pause or Resume, and Delete (confirmed), in the language spoken."""
    if not found:
        text = _("You have no nudges scheduled. `/coach nudge` schedules one.")
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": _("*Your nudges*")}}]
    for schedule in found:
        toggle = ("resume", _("Resume")) if schedule.paused else ("pause", _("Pause"))
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": describe(schedule)}},
            {"type": "actions", "elements": [
                _button("edit", _("Edit"), schedule.id),
                _button(*toggle, schedule.id),
                _button("delete", _("Delete"), schedule.id, style="danger", confirm={
                    "title": _text(_("Delete this nudge?")), "text": _text(_("Its future firings are cancelled.")),
                    "confirm": _text(_("Delete")), "deny": _text(_("Keep it"))}),
            ]},
        ]
    text = ngettext("You have {count} nudge scheduled.", "You have {count} nudges scheduled.", len(found))
    return text.format(count=len(found)), blocks


def _button(kind: str, label: str, schedule_id: str, **extra) -> dict:
    return {"type": "button", "action_id": f"{ACTION_PREFIX}{kind}", "text": _text(label), "value": schedule_id,
            **extra}


def register(app, engine, coach):
    """`/coach nudge`, `/coach nudges`, the modal's submission and the listing's buttons, on a Bolt app; each said in
    the manager's language (Coach.language_of)."""
    async def command(word: str, command: dict, context, client, respond) -> None:
        learner = learner_id(context.team_id, command["user_id"])
        async with speaking_to(coach, learner):
            try:
                manager = await asyncio.to_thread(forms.manager_of, engine, learner)
            except CoachError as exc:
                await respond(text=str(exc), response_type="ephemeral", replace_original=True)
                return
            if word == "nudge":
                lessons = await asyncio.to_thread(forms.lesson_choices, engine)
                await client.views_open(trigger_id=command["trigger_id"],
                                        view=view(forms.NudgeForm(), lessons, manager.team, manager.timezone))
                return
            text, blocks = listing_blocks(await asyncio.to_thread(schedules.of_owner, engine, learner))
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)

    @app.view(NUDGE_VIEW)
    async def on_submit(ack, body, view, context, client):
        user, team = body["user"]["id"], context.team_id
        form = form_of(view["state"]["values"], team)
        async with speaking_to(coach, learner_id(team, user)):
            try:
                manager = await asyncio.to_thread(forms.manager_of, engine, learner_id(team, user))
                problems = await asyncio.to_thread(forms.problems, engine, manager, form)
                if problems:
                    await ack(response_action="errors", errors=errors_of(problems))
                    return
                schedule = await asyncio.to_thread(forms.save, engine, manager, form,
                                                   json.loads(view.get("private_metadata") or "{}").get("edit", ""))
            except CoachError as exc:
                await ack(response_action="errors", errors={"message": str(exc)[:150]})
                return
            await ack()
            text = _("Scheduled: {schedule}. `/coach nudges` lists, edits and pauses your nudges.").format(
                schedule=describe(schedule))
        await client.chat_postMessage(channel=user, text=text)

    async def ack_only(ack):
        await ack()

    async def on_button(body, action, context, client, respond):
        kind, schedule_id = action["action_id"].removeprefix(ACTION_PREFIX), action.get("value", "")
        learner = learner_id(context.team_id, body["user"]["id"])
        async with speaking_to(coach, learner):
            try:
                manager = await asyncio.to_thread(forms.manager_of, engine, learner)
                schedule = await asyncio.to_thread(forms.owned, engine, learner, schedule_id)
                if kind == "edit":
                    lessons = await asyncio.to_thread(forms.lesson_choices, engine)
                    await client.views_open(trigger_id=body["trigger_id"], view=view(
                        forms.NudgeForm.of(schedule), lessons, manager.team, manager.timezone, schedule_id))
                    return
                if kind == "delete":
                    await asyncio.to_thread(schedules.delete, engine, schedule_id)
                else:
                    await asyncio.to_thread(schedules.set_paused, engine, schedule_id, kind == "pause")
            except CoachError as exc:
                await respond(text=str(exc), response_type="ephemeral", replace_original=False)
                return
            text, blocks = listing_blocks(await asyncio.to_thread(schedules.of_owner, engine, learner))
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)

    app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=ack_only, lazy=[on_button])
    return command  # the /coach listener routes `/coach nudge` and `/coach nudges` here
