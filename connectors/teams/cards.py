"""Teams renderings of the core's replies: Adaptive Cards (answer, sources, actions), the Teams citation entity,
and how a card action maps back to the core's action kinds."""

from __future__ import annotations

import re

from coach.i18n import _, short_date, speaking
from coach.messages import Action, Citation, Reply
from connectors.teams.markdown_card import markdown_elements, text_block
from kernel.text import shorten

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # what Teams renders for bots on desktop, web and mobile
MAX_CITATIONS = 20
_WEB_LINK = re.compile(r"(?:https?://|mailto:)\S+$", re.IGNORECASE)


def card(body: list[dict], actions: list[dict] | None = None) -> dict:
    content = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
               "msteams": {"width": "Full"}}
    if actions:
        content["actions"] = actions
    return content


def attachment(content: dict) -> dict:
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}


def answer_card(reply: Reply, *, with_text: bool = True) -> dict:
    """Notice, answer (unless the message text carries it), numbered sources, and one button per action; the card's
    own words in the reply's language."""
    with speaking(reply.language):
        return _answer_card(reply, with_text)


def _answer_card(reply: Reply, with_text: bool) -> dict:
    body = [text_block(reply.notice, isSubtle=True, size="Small")] if reply.notice.strip() else []
    if with_text:
        body += markdown_blocks(reply.text)
    if reply.citations:
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": [
            text_block(_("Sources"), weight="Bolder", size="Small"),
            *[text_block(source_line(c), size="Small", spacing="Small") for c in reply.citations]]})
    body = body or markdown_blocks(reply.text) or [text_block(reply.text)]  # a card needs something to show
    return card(body, [execute(a) for a in reply.actions])


def markdown_blocks(markdown: str) -> list[dict]:
    """The reply's Markdown as card elements (connectors/teams/markdown_card.py): TextBlocks in the Markdown subset
    cards render, bold headings, quotes as emphasised Containers, code as monospace, tables as `Table`."""
    return markdown_elements(markdown)


def source_line(c: Citation) -> str:
    title = (c.title.strip() or c.source_id).replace("[", "(").replace("]", ")")
    title = f"[{title}]({c.link})" if _WEB_LINK.match(c.link) else f"**{title}**"
    return " · ".join(p for p in (f"{c.n}. {title}", c.where.strip(), _updated(c)) if p)


def execute(action: Action) -> dict:
    """Action.Execute (an `adaptiveCard/action` invoke); `data` also carries the kind so that clients that fall back
    to Action.Submit (a message with a value) are understood the same way. "Not helpful" first opens a box asking
    what was missing (optional), inside the card, seen only by the one who clicked."""
    button = {"type": "Action.Execute", "title": shorten(action.label, 60), "verb": action.kind,
              "data": {"coach": action.kind, "value": action.value}}
    if action.kind == "forget_confirm":
        button["style"] = "destructive"
    if action.kind == "not_helpful":
        return {"type": "Action.ShowCard", "title": shorten(action.label, 60), "card": card(
            [{"type": "Input.Text", "id": "note", "isMultiline": True, "maxLength": 2000,
              "label": _("What was missing? Tell L&D (optional)")}], [button | {"title": _("Send")}])}
    return button


def chosen(data: dict | None, verb: str | None = None) -> tuple[str, str, str] | None:
    """(kind, value, note) of a card action, from an invoke's verb + data or a submitted message's value."""
    if not isinstance(data, dict) or not (kind := verb or data.get("coach")):
        return None
    return str(kind), str(data.get("value") or ""), str(data.get("note") or "")


def citation_entity(reply: Reply) -> dict:
    """Teams' own citation format for a message whose text carries [n] markers (and the AI label when a language
    model wrote the answer), as Microsoft's "Enhance AI-generated bot messages" page describes it; Teams refuses a
    message with more than 20 citations."""
    entity = {"type": "https://schema.org/Message", "@type": "Message", "@context": "https://schema.org", "@id": "",
              "citation": [{"@type": "Claim", "position": c.n, "appearance": {
                  "@type": "DigitalDocument", "name": (c.title.strip() or c.source_id)[:80],
                  "abstract": " · ".join(p for p in (c.where.strip(), _updated(c)) if p)[:160],
                  **({"url": c.link} if _WEB_LINK.match(c.link) else {})}} for c in reply.cited[:MAX_CITATIONS]]}
    if reply.mode == "generated":
        entity["additionalType"] = ["AIGeneratedContent"]
    return entity


def _updated(c: Citation) -> str:
    when = c.updated_at  # not strftime: that follows the server's locale
    return _("updated {date}").format(date=short_date(when))
