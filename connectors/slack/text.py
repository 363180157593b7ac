"""What a learner typed in Slack, as plain text for the core: Slack's `<…>` markup resolved, entities unescaped."""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here", "channel", "everyone"}


def plain_text(slack_text: str, bot_user_id: str | None = None) -> str:
    """Mentions of the bot and @here/@channel/@everyone removed; other user mentions kept as `<@U123>` (the core's
    redactor removes them); links, channels and user groups as readable text; whitespace collapsed."""
    text = _MARKUP.sub(lambda m: _resolve(m[1], bot_user_id), slack_text or "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _resolve(inner: str, bot_user_id: str | None) -> str:
    """One `<…>` of Slack markup as text."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        return " " if bot_user_id and user == bot_user_id else f"<@{user}>"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return " " if name in _SPECIAL else (label or f"@{name}")
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if label and label != re.sub(r"^[a-z]+://", "", target).rstrip("/") and label != target:
        return f"{label} ({target})"  # not when Slack linked what was typed: <https://x.y|x.y>
    return target
