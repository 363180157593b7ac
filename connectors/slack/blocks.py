"""Slack Block Kit for the core's replies: answer blocks (their Markdown rendered by markdown_blocks) with sources,
buttons and Slack's own feedback buttons, the streaming placeholder, the plain-text fallback, and the action_id scheme
of the buttons."""

from __future__ import annotations

import re
from datetime import datetime

from coach.i18n import _, short_date, speaking
from coach.messages import Action, Reply
from connectors.slack import markdown_blocks
from connectors.slack.markdown_blocks import SECTION_LIMIT, WEB_LINK as _WEB_LINK, body_blocks, split as _split
from connectors.slack.markdown_blocks import escape as _escape, url as _url
from kernel.text import shorten

BLOCK_LIMIT = 50  # blocks in one message
BUTTON_LIMIT = 25  # elements in one actions block
ACTION_PREFIX = "coach:"
FEEDBACK_ACTION = ACTION_PREFIX + "feedback"  # Slack's thumbs up/down under an answer; the value says which and whose
FEEDBACK_KINDS = ("helpful", "not_helpful")


def to_mrkdwn(markdown: str) -> str:
    """The coach's Markdown as Slack mrkdwn, with `&`, `<`, `>` escaped (also inside code, where Slack shows them
    as typed); a table as "Header: value" lines."""
    return markdown_blocks.to_mrkdwn(markdown)


# --- blocks ------------------------------------------------------------------------------------------------------

def answer_blocks(reply: Reply, *, text: bool = True) -> list[dict]:
    """Notice (context), answer text (sections; `text=False` when Slack streamed it already), sources (sections),
    buttons (actions) and the feedback buttons (context_actions): at most 50 blocks, their chrome in the reply's
    language."""
    with speaking(reply.language):
        return _answer_blocks(reply, text)


def _answer_blocks(reply: Reply, text: bool) -> list[dict]:
    links = {c.n: c.link for c in reply.citations if _WEB_LINK.match(c.link)}
    head = [_context(to_mrkdwn(reply.notice))] if reply.notice.strip() else []
    body = body_blocks(reply.text, links) if text else []
    if reply.citations:
        body += [_section(chunk) for chunk in _split(_sources(reply))]
    rating = _feedback(reply.actions)
    tail = _buttons([a for a in reply.actions if not (rating and a.kind in FEEDBACK_KINDS)]) + rating
    room = BLOCK_LIMIT - len(head) - len(tail)
    if len(body) > room:
        body = body[:room - 1] + [_context(_("_…the rest did not fit in one Slack message._"))]
    return head + body + tail


def placeholder_blocks(text: str) -> list[dict]:
    """One section with the answer so far; the text may end mid-Markdown."""
    chunks = _split(to_mrkdwn(text), SECTION_LIMIT - 2) or ["…"]
    return [_section(chunks[0] + ("\n…" if len(chunks) > 1 else ""))]


def fallback_text(reply: Reply) -> str:
    """The answer as plain text (markup stripped, `&<>` escaped) for notifications and screen readers: at most
    3000 characters, cut on a word boundary with "…"."""
    text = _escape(re.sub(r"\n{3,}", "\n\n", markdown_blocks.to_mrkdwn(reply.text, plain=True)).strip())
    if len(text) <= SECTION_LIMIT:
        return text
    cut = text[:SECTION_LIMIT - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    cut = cut[:space] if space > 0 else re.sub(r"&[a-z]*$", "", cut)
    return cut.rstrip() + "…"


def button_action(action: dict) -> tuple[str, str]:
    """The core's (kind, value) of a clicked element: a button's action_id names the kind ("coach:helpful" and
    "coach:helpful:1" are both "helpful"); a feedback button's value carries both ("helpful:NEED")."""
    if action.get("type") == "feedback_buttons" or action.get("action_id") == FEEDBACK_ACTION:
        kind, _sep, value = action.get("value", "").partition(":")
        return kind, value
    return action["action_id"].removeprefix(ACTION_PREFIX).split(":", 1)[0], action.get("value", "")


def _sources(reply: Reply) -> str:
    lines = [_("*Sources*")]
    for c in reply.citations:
        title = _escape(c.title.strip() or c.source_id)
        title = f"<{_url(c.link)}|{title}>" if _WEB_LINK.match(c.link) else title
        updated = _("updated {date}").format(date=_date(c.updated_at))
        parts = [f"{c.n}. *{title}*", _escape(c.where.strip()), updated]
        lines.append(" · ".join(p for p in parts if p))
    return "\n".join(lines)


def _date(when: datetime) -> str:
    return short_date(when)


def _buttons(actions: list[Action]) -> list[dict]:
    """One actions block; a kind seen before gets its position in `actions` as suffix, so action_ids stay unique."""
    elements, seen = [], set()
    for i, action in enumerate(actions[:BUTTON_LIMIT]):
        action_id = f"{ACTION_PREFIX}{action.kind}" + (f":{i}" if action.kind in seen else "")
        seen.add(action.kind)
        button = {"type": "button", "action_id": action_id,
                  "text": {"type": "plain_text", "text": shorten(action.label, 75), "emoji": True}}
        if action.value:  # Slack refuses an empty value; a missing one reads back as ""
            button["value"] = action.value
        if action.kind == "forget_confirm":
            button["style"] = "danger"
        elements.append(button)
    return [{"type": "actions", "elements": elements}] if elements else []


def _feedback(actions: list[Action]) -> list[dict]:
    """Slack's feedback buttons (a context_actions block) for the answer's Helpful / Not helpful."""
    rated = {a.kind: a for a in actions if a.kind in FEEDBACK_KINDS}
    if set(rated) != set(FEEDBACK_KINDS):
        return []

    def button(action: Action) -> dict:
        return {"text": {"type": "plain_text", "text": shorten(action.label, 75), "emoji": True},
                "accessibility_label": shorten(_("{label} answer").format(label=action.label), 75),
                "value": f"{action.kind}:{action.value}"}

    return [{"type": "context_actions", "elements": [{
        "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
        "positive_button": button(rated["helpful"]), "negative_button": button(rated["not_helpful"])}]}]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}
