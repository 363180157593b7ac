"""What every web chat page shares: the learner cookie, the page's language, the page around the conversation, its
static files. Its headers (connectors/security_headers.py, the admin's too) allow no inline script or style, so the
page's look is chat.css and its behaviour chat.js."""

from __future__ import annotations

import json
import re
import secrets
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

from coach.coach import MAX_QUESTION_CHARS, TOO_LONG
from coach.i18n import LANGUAGES, _, from_accept_language, speaking
from coach.rate_limit import SLOW_DOWN

COOKIE = "coach_learner"
STATIC = Path(__file__).resolve().parent.parent / "static"

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/chat.css"></head><body>
<header><h1>{heading}</h1></header>
<main>{main}</main>
<script type="application/json" id="coach-strings">{strings}</script>
<script src="/static/chat.js" defer></script></body></html>"""

CHAT = """<h2 id="conversation-heading" class="visually-hidden">{conversation}</h2>
<div id="conversation" aria-labelledby="conversation-heading" aria-live="polite">{body}</div>
<form id="ask" method="post" action="/ask"><label for="q">{label}</label>
<div class="ask-row"><input type="text" id="q" name="q" autocomplete="off" required maxlength="20000" autofocus>
<button type="submit">{ask}</button></div>
</form><p class="hint">{hint}</p>"""


def browser_language(request: Request) -> str | None:
    """The browser's most preferred language the coach speaks (Accept-Language), or None."""
    return from_accept_language(request.headers.get("accept-language"))


def page_language(request: Request, learner: str) -> str:
    """The page's own words: in the learner's language once the coach knows them (their choice, the language they
    write in), else in the browser's."""
    coach = request.app.state.container.coach
    return coach.language_of(learner) if coach.knows(learner) else browser_language(request) or LANGUAGES[0]


def stressed(text: str) -> str:
    """A text of the catalog as HTML (its *stressed* words in <em>)."""
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escape(text, quote=False))


def strings() -> dict[str, str]:
    """What chat.js says itself, in the language being spoken."""
    return {"thinking": _("Looking through the learning content…"),
            "unreachable": _("The coach could not be reached. Check your connection and ask again."),
            "too_long": _(TOO_LONG).format(limit=MAX_QUESTION_CHARS), "slow_down": _(SLOW_DOWN)}


def page_html(language: str, body: str) -> str:
    """The chat page around the conversation `body`, in `language`."""
    with speaking(language) as lang:
        main = CHAT.format(conversation=stressed(_("Conversation")), body=body,
                           label=stressed(_("Ask about your company's learning content")), ask=stressed(_("Ask")),
                           hint=stressed(_("Say *help* to see what else I can do.")))
        return document(lang, _("Learning coach"), main)


def document(lang: str, title: str, main: str) -> str:
    return PAGE.format(lang=lang, title=stressed(title), heading=stressed(title), main=main,
                       strings=json.dumps(strings()).replace("<", "\\u003c"))


def learner_of(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if re.fullmatch(r"web-[0-9a-f]{32}", value) else f"web-{secrets.token_hex(16)}"


def with_cookie(response: Response, learner_id: str) -> Response:
    response.set_cookie(COOKIE, learner_id, httponly=True, samesite="strict", max_age=365 * 24 * 3600)
    return response


def same_origin(request: Request) -> None:
    """A dependency of every post that changes something: the learner cookie is SameSite=Strict already; a post
    whose Origin names another site is refused too (browsers send Origin on every POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin == "null" or urlsplit(origin).netloc != request.headers.get("host", request.url.netloc):
        raise HTTPException(403, "cross-site request refused")


def static_file(name: str, media_type: str) -> Response:
    return Response((STATIC / name).read_text(), media_type=media_type, headers={"Cache-Control": "no-cache"})
