"""A reply as the web chat shows it: its Markdown rendered from the one parser's tokens (connectors/markdown.py),
then sanitised with nh3 to the few tags a reply may hold, so nothing in the content or in a model's answer can add
script, style, frames or links elsewhere than the web, mail and the reply's own sources.

`[n]` markers become links to the reply's source entry; the quiz options of a lesson become buttons (they are also
the reply's `answer` actions), not a list that looks clickable and is not.
"""

from __future__ import annotations

import re
import secrets
from html import escape
from urllib.parse import urlsplit

import nh3
from markdown_it.token import Token

from coach.i18n import N_, _, short_date, speaking
from coach.messages import Citation, Reply
from coach.transcripts import Exchange
from connectors.markdown import PARSER, parse

TAGS = {"p", "br", "hr", "blockquote", "ul", "ol", "li", "strong", "em", "del", "code", "pre", "table", "thead",
        "tbody", "tr", "th", "td", "a", "h3", "h4"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}
_MARKER = re.compile(r"\[(\d+)\]")
_OPTION = re.compile(r"^\*\*[A-Z]\.\*\*\s")
# buttons that answer one question together: once one is pressed, the others go too
GROUPS = {"helpful": "rating", "not_helpful": "rating", "answer": "quiz", "forget_confirm": "confirm",
          "cancel": "confirm"}
OPTIONS_LABEL = N_("Answer options")
TABLE_LABEL = N_("Table")


def _href_filter(tag: str, attribute: str, value: str) -> str | None:
    """Links go to the web or mail (nh3 checks the scheme), or to a source of the same reply; no other relative
    link (a reply cannot point a learner at /admin or elsewhere on this site)."""
    if tag == "a" and attribute == "href" and not urlsplit(value).scheme:
        return value if re.fullmatch(r"#source-[\w-]+", value) else None
    return value


def clean(html: str) -> str:
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, attribute_filter=_href_filter,
                     link_rel="noopener noreferrer")


def markdown_html(text: str, key: str = "", numbers: set[int] = frozenset(), drop_options: bool = False) -> str:
    """`numbers`: the citation numbers that link to `#source-{key}-{n}`; `drop_options`: leave out the quiz's
    "- **A.** ..." list (its buttons stand in for it)."""
    tokens = _shaped(parse(text), key, numbers, drop_options)
    html = clean(PARSER.renderer.render(tokens, PARSER.options, {}))
    # a wide table scrolls in its own box, not the page (reachable by keyboard, so it can be scrolled)
    return html.replace("<table>", f'<div class="table-wrap" role="region" tabindex="0" '
                                   f'aria-label="{escape(_(TABLE_LABEL))}"><table>').replace("</table>",
                                                                                          "</table></div>")


def _shaped(tokens: list[Token], key: str, numbers: set[int], drop_options: bool) -> list[Token]:
    shaped, skip_to = [], -1
    for i, token in enumerate(tokens):
        if i <= skip_to:
            continue
        if drop_options and token.type == "bullet_list_open" and (end := _options_end(tokens, i)):
            skip_to = end
            continue
        if token.type in ("heading_open", "heading_close"):  # the page has h1 and h2: a reply's start at h3
            token.tag = "h3" if token.tag in ("h1", "h2") else "h4"
        if token.type == "inline" and token.children:
            token.children = _inline(token.children, key, numbers)
        shaped.append(token)
    return shaped


def _options_end(tokens: list[Token], start: int) -> int | None:
    """The index closing the bullet list at `start` when every item is a quiz option ("**A.** text")."""
    level, items = tokens[start].level, []
    for j in range(start + 1, len(tokens)):
        token = tokens[j]
        if token.type == "bullet_list_close" and token.level == level:
            return j if items and all(_OPTION.match(t) for t in items) else None
        if token.type == "inline" and token.level == level + 3:  # list_item > paragraph > inline
            items.append(token.content)
    return None


def _inline(children: list[Token], key: str, numbers: set[int]) -> list[Token]:
    out = []
    for child in children:
        if child.type == "softbreak":  # the core writes one sentence, or one quoted line, per line
            child.type = "hardbreak"
        if child.type != "text" or not _MARKER.search(child.content):
            out.append(child)
            continue
        at = 0
        for m in _MARKER.finditer(child.content):
            n = int(m.group(1))
            if n not in numbers:
                continue
            if m.start() > at:
                out.append(_text(child.content[at:m.start()]))
            link = Token("link_open", "a", 1)
            link.attrSet("href", f"#source-{key}-{n}")
            out += [link, _text(m.group(0)), Token("link_close", "a", -1)]
            at = m.end()
        if at < len(child.content):
            out.append(_text(child.content[at:]))
    return out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def source_href(citation: Citation) -> str:
    """Where a source entry opens: the original, at its page for a PDF, when L&D gave it a web link; else the
    coach's own page of the source, at the cited passage (connectors/web/sources.py)."""
    link = citation.link.strip()
    if link.startswith("/read/"):  # through the coach, which records the reading (coach/source_links.py)
        return link
    if link and urlsplit(link).scheme in ("http", "https"):
        page = re.match(r"p\. (\d+)\b", citation.where)
        if page and urlsplit(link).path.lower().endswith(".pdf") and "#" not in link:
            return f"{link}#page={page.group(1)}"
        return link
    return f"/sources/{citation.source_id}#chunk-{citation.chunk_id}"


def render(reply: Reply, key: str, used: tuple[str, ...] = (), on: int | None = None) -> str:
    """One reply as HTML, its own words in the reply's language; `key` tells its source anchors from those of
    the other replies on the page; `used`: kinds of its buttons already pressed (their group is not offered
    again); `on`: the exchange the buttons belong to."""
    with speaking(reply.language) as lang:
        return _render(reply, key, used, on, lang)


def _render(reply: Reply, key: str, used: tuple[str, ...], on: int | None, lang: str) -> str:
    quiz = any(a.kind == "answer" for a in reply.actions)
    body = markdown_html(reply.text, key, {c.n for c in reply.citations}, drop_options=quiz)
    sources = "".join(
        f'<li id="source-{key}-{c.n}" value="{c.n}"><a href="{escape(source_href(c))}">{escape(c.title)}</a>'
        f'<span class="where">{escape(" · ".join(p for p in (c.where, _updated(c.updated_at)) if p))}</span></li>'
        for c in reply.citations)
    notice = f'<p class="notice">{escape(reply.notice)}</p>' if reply.notice else ""
    heading = _("Sources")
    listing = f'<h3>{escape(heading)}</h3><ol class="sources">{sources}</ol>' if sources else ""
    classes = "answer" + (" abstained" if reply.abstained else "")
    return (f'<section class="{classes}" lang="{lang}" tabindex="-1">{notice}{body}{listing}'
            f'{actions_html(reply, used, on)}</section>')


def actions_html(reply: Reply, used: tuple[str, ...] = (), on: int | None = None) -> str:
    """The reply's buttons, each a form that works without JavaScript (chat.js sends it in place)."""
    with speaking(reply.language):
        gone = {GROUPS.get(kind, kind) for kind in used}
        shown = [a for a in reply.actions if GROUPS.get(a.kind, a.kind) not in gone]
        where = f'<input type="hidden" name="on" value="{on}">' if on is not None else ""
        forms = [(a.kind, f'<form method="post" action="/action"><input type="hidden" name="value" '
                          f'value="{escape(a.value)}">{where}<button type="submit" name="kind" value="{a.kind}">'
                          f'{escape(a.label)}</button></form>') for a in shown]
        options = "".join(form for kind, form in forms if kind == "answer")
        others = "".join(form for kind, form in forms if kind != "answer")
        quiz = (f'<div class="quiz" role="group" aria-label="{escape(_(OPTIONS_LABEL))}">{options}</div>'
                if options else "")
        return f'<div class="actions">{quiz}{others}</div>' if forms else '<div class="actions" hidden></div>'


def _updated(when) -> str:
    """"updated 05 Mar 2026" (not strftime's %b: that follows the server's locale)."""
    return _("updated {date}").format(date=short_date(when))


def exchange_html(exchange: Exchange | None, reply: Reply, said: str = "", kind: str = "action") -> str:
    """A turn of the conversation: what the learner said (a question, or the button they pressed) and the reply.
    Without `exchange`, a reply that is not kept (e.g. "forget me" done, or a question refused), to `said` of this
    `kind` ("ask" or "action")."""
    if exchange is not None:
        said, key, on = exchange.said, f"x{exchange.id}", exchange.id
        anchor, used = f' id="x-{exchange.id}"', exchange.used
    else:
        key, on, anchor, used = f"r{secrets.token_hex(4)}", None, "", ()
    kind = exchange.kind if exchange is not None else kind
    asked = f'<p class="question{" pressed" if kind == "action" else ""}">{escape(said)}</p>' if said else ""
    return f'<div class="exchange"{anchor}>{asked}{render(reply, key, used, on)}</div>'
