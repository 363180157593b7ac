"""The coach's Home tab in Slack: the learner's own page (the core's `LearnerPage`), published with `views.publish`
when they open it and again after each button on it, so it always shows the current state. A lesson started here
arrives in the learner's DM with the coach, where its quiz is answered."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from coach.learner_page import LearnerPage, LessonLine
from connectors.slack.blocks import ACTION_PREFIX, answer_blocks, fallback_text, to_mrkdwn
from connectors.slack.delivery import learner_id

log = logging.getLogger(__name__)

LINE_LIMIT = 280  # characters of one recent question shown
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


async def publish_home(client: AsyncWebClient, coach, team: str, user: str) -> None:
    page = await asyncio.to_thread(coach.page, learner_id(team, user))
    try:
        await client.views_publish(user_id=user, view=home_view(page))
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
    blocks: list[dict] = [{"type": "header", "text": _plain("Your learning" + (f", {page.name}" if page.name
                                                                                 else ""))}]
    if page.due:
        blocks += [_section("*Due for review*")] + [_lesson(line, "Review", i) for i, line in enumerate(page.due)]
    if page.suggested:
        blocks += [_section("*Suggested for you*")] + [_lesson(line, "Start", len(page.due) + i)
                                                      for i, line in enumerate(page.suggested)]
    if not page.due and not page.suggested:
        blocks.append(_section("No micro-lessons for you yet. Ask me anything in *Messages*: suggestions follow "
                               "what you ask about."))
    blocks += [{"type": "divider"}, _section("*Your recent questions*")]
    if page.recent:
        blocks.append(_section("\n".join(_question(q) for q in page.recent)))
    else:
        blocks.append(_context("None yet. Ask in *Messages*, or mention me in a channel."))
    nudges = ("paused: I send you no nudges or lessons until you resume" if page.paused
              else "on: reminders and lessons at your working hours")
    toggle = ("resume", "Resume nudges") if page.paused else ("pause", "Pause nudges")
    blocks += [{"type": "divider"},
               _section(f"*Nudges and lessons* are {nudges}.", _button(*toggle))]
    kept = (f"{page.kept_questions} question(s), with personal details removed, and {page.kept_lessons} "
            "micro-lesson(s) with their quiz answers and reviews." if page.keeps_anything else "Nothing yet.")
    blocks.append(_section(f"*What I keep about you:* {kept}"))
    if page.keeps_anything:
        blocks.append({"type": "actions", "elements": [
            _button("export", "Show all of it"),
            {**_button("forget_confirm", "Forget me"), "style": "danger", "confirm": {
                "title": _plain("Forget everything?"), "confirm": _plain("Yes, forget me"), "deny": _plain("Cancel"),
                "style": "danger", "text": {"type": "mrkdwn", "text": (
                    "This deletes your profile, your questions, your lesson progress and where I can message you, "
                    "for good.")}}}]})
    return {"type": "home", "blocks": blocks[:100]}


def _lesson(line: LessonLine, verb: str, n: int) -> dict:
    text = f"*{to_mrkdwn(line.title)}* ({line.minutes} min)\n{to_mrkdwn(line.reason)}"
    return _section(text, {**_button("lesson", verb, line.key), "action_id": f"{ACTION_PREFIX}lesson:{n}"})


def _question(q) -> str:
    asked = f"{q.asked_at.day} {_MONTHS[q.asked_at.month - 1]}"
    text = q.question if len(q.question) <= LINE_LIMIT else q.question[:LINE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    status = "answered" if q.answered else "not in the content yet: L&D sees it"
    rated = {"helpful": ", you found it helpful", "not_helpful": ", you found it not helpful"}.get(q.feedback, "")
    return f"• {asked}: {to_mrkdwn(text)} _({status}{rated})_"


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
