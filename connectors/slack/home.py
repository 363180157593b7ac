"""The coach's Home tab in Slack: the learner's own page (the core's `LearnerPage`), published with `views.publish`
when they open it and again after each button on it, so it always shows the current state. A lesson started here
arrives in the learner's DM with the coach, where its quiz is answered."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from coach.i18n import _, ngettext, short_date
from coach.learner_page import LearnerPage, LessonLine
from connectors.slack.blocks import ACTION_PREFIX, answer_blocks, fallback_text, to_mrkdwn
from connectors.slack.delivery import learner_id, speaking_to

log = logging.getLogger(__name__)

LINE_LIMIT = 280  # characters of one recent question shown


async def publish_home(client: AsyncWebClient, coach, team: str, user: str) -> None:
    """The page in the learner's language (what the core says on it too: it is made under the same language)."""
    learner = learner_id(team, user)
    async with speaking_to(coach, learner):
        view = home_view(await asyncio.to_thread(coach.page, learner))
    try:
        await client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:  # e.g. `not_enabled`: the Home tab is off in the app's settings
        log.warning("views.publish failed: %s", exc.response.get("error"))


IN_DM = ("lesson", "answer", "export")  # replies a page cannot show: a lesson, its quiz's grading, all that is kept


async def after_home_action(client: AsyncWebClient, coach, team: str, user: str, kind: str, reply) -> None:
    """A lesson, its quiz's answer or the export goes to the learner's DM with the coach; then the page is drawn
    again (pause, resume and forget show there)."""
    if kind in IN_DM:
        await client.chat_postMessage(channel=user, text=fallback_text(reply), blocks=answer_blocks(reply))
    await publish_home(client, coach, team, user)


def home_view(page: LearnerPage) -> dict:
    """The page's texts in the language spoken (`speaking`)."""
    title = _("Your learning, {name}").format(name=page.name) if page.name else _("Your learning")
    blocks: list[dict] = [{"type": "header", "text": _plain(title)}]
    if page.due:
        blocks += [_section(_("*Due for review*"))] + [_lesson(line, _("Review"), i) for i, line in enumerate(page.due)]
    if page.suggested:
        blocks += [_section(_("*Suggested for you*"))] + [_lesson(line, _("Start"), len(page.due) + i)
                                                         for i, line in enumerate(page.suggested)]
    if not page.due and not page.suggested:
        blocks.append(_section(_("No micro-lessons for you yet. Ask me anything in *Messages*: suggestions follow "
                                 "what you ask about.")))
    blocks += [{"type": "divider"}, _section(_("*Your recent questions*"))]
    if page.recent:
        blocks.append(_section("\n".join(_question(q) for q in page.recent)))
    else:
        blocks.append(_context(_("None yet. Ask in *Messages*, or mention me in a channel.")))
    nudges = (_("*Nudges and lessons* are paused: I send you no nudges or lessons until you resume.") if page.paused
              else _("*Nudges and lessons* are on: reminders and lessons at your working hours."))
    toggle = ("resume", _("Resume nudges")) if page.paused else ("pause", _("Pause nudges"))
    blocks += [{"type": "divider"}, _section(nudges, _button(*toggle))]
    kept = _("Nothing yet.")
    if page.keeps_anything:
        kept = ngettext("{questions} question, with personal details removed, and {lessons} micro-lesson(s) with "
                        "their quiz answers and reviews.",
                        "{questions} questions, with personal details removed, and {lessons} micro-lesson(s) with "
                        "their quiz answers and reviews.", page.kept_questions).format(
            questions=page.kept_questions, lessons=page.kept_lessons)
    blocks.append(_section(_("*What I keep about you:* {kept}").format(kept=kept)))
    if page.keeps_anything:
        blocks.append({"type": "actions", "elements": [
            _button("export", _("Show all of it")),
            {**_button("forget_confirm", _("Forget me")), "style": "danger", "confirm": {
                "title": _plain(_("Forget everything?")), "confirm": _plain(_("Yes, forget me")),
                "deny": _plain(_("Cancel")), "style": "danger", "text": {"type": "mrkdwn", "text": _(
                    "This deletes your profile, your questions, your lesson progress and where I can message you, "
                    "for good.")}}}]})
    return {"type": "home", "blocks": blocks[:100]}


def _lesson(line: LessonLine, verb: str, n: int) -> dict:
    text = _("*{title}* ({minutes} min)").format(title=to_mrkdwn(line.title), minutes=line.minutes)
    text += "\n" + to_mrkdwn(line.reason)
    return _section(text, {**_button("lesson", verb, line.key), "action_id": f"{ACTION_PREFIX}lesson:{n}"})


def _question(q) -> str:
    asked = short_date(q.asked_at, year=False)
    text = q.question if len(q.question) <= LINE_LIMIT else q.question[:LINE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    status = _("answered") if q.answered else _("not in the content yet: L&D sees it")
    if q.feedback == "helpful":
        status = _("{status}, you found it helpful").format(status=status)
    elif q.feedback == "not_helpful":
        status = _("{status}, you found it not helpful").format(status=status)
    return f"• {asked}: {to_mrkdwn(text)} _({status})_"


def _button(kind: str, label: str, value: str = "") -> dict:
    button = {"type": "button", "action_id": ACTION_PREFIX + kind, "text": _plain(label)}
    return {**button, "value": value} if value else button


def _section(text: str, accessory: dict | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    return {**block, "accessory": accessory} if accessory else block


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text[:150], "emoji": True}
