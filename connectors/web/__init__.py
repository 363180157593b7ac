"""The built-in web chat: ask, see the cited answer, press its buttons, read its sources. Anonymous visitors see
`everyone` content only.

Each browser gets a random learner id in a cookie, so its questions, feedback, conversation, export and deletion
stay its own. One module per concern: shell (page, cookie), render (a reply as safe HTML), chat (the conversation's
routes), sources (a source opened at its passage), public (what public responses say about a source), limits
(questions per client address). PATHS: what the server sends the security headers with (connectors/
security_headers.py), each route's path up to its first parameter.
"""

from __future__ import annotations

from fastapi import APIRouter

from connectors.web import chat, sources
from connectors.web.shell import static_file

MAX_BODY_BYTES = 256 * 1024  # the longest question a form or chat.js can send, in any script, fits; larger: 413
router = APIRouter(max_body_size=MAX_BODY_BYTES)
router.include_router(chat.router)
router.include_router(sources.router)


@router.get("/static/chat.js", include_in_schema=False)
def script():
    return static_file("chat.js", "text/javascript")


@router.get("/static/chat.css", include_in_schema=False)
def stylesheet():
    return static_file("chat.css", "text/css")


PATHS = tuple(dict.fromkeys(route.path.split("{")[0] for routes in (chat.router, sources.router, router)
                            for route in routes.routes if hasattr(route, "path")))
