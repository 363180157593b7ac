"""Slack Block Kit for the core's replies: Markdown to Slack mrkdwn, answer blocks with sources, buttons and Slack's
own feedback buttons, the streaming placeholder, the plain-text fallback, and the action_id scheme of the buttons."""

from __future__ import annotations

import re
from datetime import datetime

from coach.i18n import _, short_date, speaking
from coach.messages import Action, Reply
from kernel.text import shorten

SECTION_LIMIT = 3000  # characters of a section's text
BLOCK_LIMIT = 50  # blocks in one message
BUTTON_LIMIT = 25  # elements in one actions block
ACTION_PREFIX = "coach:"
FEEDBACK_ACTION = ACTION_PREFIX + "feedback"  # Slack's thumbs up/down under an answer; the value says which and whose
FEEDBACK_KINDS = ("helpful", "not_helpful")
_BOLD_MARK = "\x01"  # stands for a converted bold marker until italics are done
_WEB_LINK = re.compile(r"(?:https?://|mailto:)\S+$", re.IGNORECASE)

_FENCE = re.compile(r"^\s*(`{3,}(?=[^`]*$)|~{3,})(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_QUOTE = re.compile(r"^\s*(?:>\s?)+(.*)$")
_TOKEN = re.compile(  # the parts of a line that are not Markdown-converted
    r"(?P<ticks>`+)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)"  # `inline code`
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)(?:\s+\"[^\"]*\")?\)"  # [label](url "title")
    r"|<(?P<auto>(?:https?://|mailto:)[^>\s]+)>"  # <https://…>
    r"|(?P<bare>https?://[^\s<>\[\]]*[^\s<>\[\]().,;:!?'\"*_~])"  # bare URL, trailing punctuation left out
    r"|\[(?P<cite>\d+)\](?!\()"  # [n] citation marker
)
_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_UNDERSCORE_ITALIC = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_SAVED = re.compile("\x00(\\d+)\x00")


# --- Markdown to mrkdwn ---------------------------------------------------------------------------------------

def to_mrkdwn(markdown: str) -> str:
    """The coach's Markdown as Slack mrkdwn, with `&`, `<`, `>` escaped (also inside code, where Slack shows them
    as typed)."""
    return _render(markdown, {}, plain=False)


def _render(markdown: str, links: dict[int, str], plain: bool) -> str:
    """Line by line; code fences are kept (mrkdwn, without language tag) or dropped (plain), their lines untouched."""
    out: list[str] = []
    fence = ""
    for line in markdown.replace("\x00", "").replace(_BOLD_MARK, "").replace("\r\n", "\n").split("\n"):
        m = _FENCE.match(line)
        if fence and m and m[1][0] == fence[0] and len(m[1]) >= len(fence) and not m[2].strip():
            fence = ""
            out.extend([] if plain else ["```"])
        elif fence:
            out.append(line if plain else _escape(line))
        elif m:
            fence = m[1]
            out.extend([] if plain else ["```"])
        else:
            out.append(_line(line, links, plain))
    if fence and not plain:
        out.append("```")  # an answer cut while streaming
    return "\n".join(out)


def _line(line: str, links: dict[int, str], plain: bool) -> str:
    if m := _HEADING.match(line):
        text = _inline(m[1] or "", links, plain, bold="")
        return text if plain or not text else f"*{text}*"
    if _RULE.match(line):
        return ""
    if m := _BULLET.match(line):
        return f"{m[1]}• {_inline(m[2], links, plain)}"
    if m := _QUOTE.match(line):
        text = _line(m[1], links, plain)
        return text if plain else f"> {text}".rstrip()
    return _inline(line, links, plain)


def _inline(text: str, links: dict[int, str], plain: bool, bold: str = "*") -> str:
    """Emphasis converted (or stripped) and text escaped, with code, links and citation markers set aside first."""
    saved: list[str] = []

    def keep(m: re.Match) -> str:
        saved.append(_token(m, links, plain))
        return f"\x00{len(saved) - 1}\x00"

    text = _TOKEN.sub(keep, text)
    text = _strip_emphasis(text) if plain else _emphasis(_escape(text)).replace(_BOLD_MARK, bold)
    return _SAVED.sub(lambda m: saved[int(m[1])], text)


def _token(m: re.Match, links: dict[int, str], plain: bool) -> str:
    if m["code"] is not None:
        return m["code"] if plain else f"{m['ticks']}{_escape(m['code'])}{m['ticks']}"
    if m["label"] is not None:
        label = _inline(m["label"], {}, plain=True)
        if plain:
            return label
        return f"<{_url(m['url'])}|{_escape(label)}>" if _WEB_LINK.match(m["url"]) else _escape(label)
    if m["auto"] is not None:
        return m["auto"] if plain else f"<{_url(m['auto'])}>"
    if m["bare"] is not None:
        return m["bare"] if plain else _escape(m["bare"])
    link = links.get(int(m["cite"]), "")
    return f"<{_url(link)}|{m[0]}>" if link and not plain else m[0]


def _emphasis(text: str) -> str:
    text = _BOLD_ITALIC.sub(lambda m: f"{_BOLD_MARK}_{m[1]}_{_BOLD_MARK}", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m[m.lastindex]}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    return _STRIKE.sub(r"~\1~", text)


def _strip_emphasis(text: str) -> str:
    for pattern in (_BOLD_ITALIC, _BOLD, _ITALIC, _UNDERSCORE_ITALIC, _STRIKE):
        text = pattern.sub(lambda m: m[m.lastindex], text)
    return text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(url: str) -> str:
    """A URL fit for `<url|label>`: escaped, and without the `|` that would end it."""
    return _escape(url).replace("|", "%7C")


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
    body = [_section(chunk) for chunk in _split(_render(reply.text, links, plain=False))] if text else []
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
    text = _escape(re.sub(r"\n{3,}", "\n\n", _render(reply.text, {}, plain=True)).strip())
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


def _split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Non-empty pieces of at most `limit` characters, cut on line boundaries; a code block cut in two is closed at
    the end of one piece and reopened in the next."""
    chunks: list[str] = []
    lines: list[str] = []
    size, in_code = 0, False
    for line in _wrap(text.split("\n"), limit - 8):
        code_after = in_code != (line == "```")
        need = len(line) + (1 if lines else 0)
        if lines and size + need + (4 if code_after else 0) > limit:
            chunks.append("\n".join(lines + (["```"] if in_code else [])))
            lines = ["```"] if in_code else []
            size = 3 if in_code else 0
            need = len(line) + (1 if lines else 0)
        lines.append(line)
        size += need
        in_code = code_after
    chunks.append("\n".join(lines))
    return [c.strip("\n") for c in chunks if c.strip()]


def _wrap(lines: list[str], width: int) -> list[str]:
    """Lines longer than `width` cut in pieces, at the last space that fits where there is one."""
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(" ", 1, width + 1)
            cut = cut if cut > 0 else width
            out.append(line[:cut])
            line = line[cut:].lstrip(" ")
        out.append(line)
    return out
