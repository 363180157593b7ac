"""The built-in web chat: ask, see the cited answer, rate it. Anonymous visitors see `everyone` content only.

Each browser gets a random learner id in a cookie, so its questions, feedback, export and deletion stay its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
from html import escape
from pathlib import Path

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from coach.conversation import Turn
from coach.i18n import LANGUAGES, N_, _, from_accept_language, short_date, speaking
from kernel.errors import NotFound
from coach.messages import IncomingMessage, Reply

router = APIRouter()
log = logging.getLogger(__name__)
COOKIE = "coach_learner"
DISCONNECT_POLL_S = 0.5
SCRIPT = (Path(__file__).parent / "static" / "chat.js").read_text()
FAILED = N_("Something went wrong while answering. Please ask again; if it keeps happening, tell the L&D team.")

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
input[type=text]{{font:inherit;width:70%;padding:.4rem}}button{{font:inherit;padding:.4rem 1rem;margin-right:.4rem}}
blockquote{{margin:.4rem 0;padding-left:.8rem;border-left:4px solid #2b6cb0}}.where,.notice{{color:#444}}
.answer{{margin:1.2rem 0}}.question{{font-weight:600;margin-top:1.5rem}}.partial{{white-space:pre-wrap}}
.actions form{{display:inline}}</style></head><body>
<h1>{title}</h1>
<div id="conversation" aria-live="polite">{body}</div>
<form id="ask" method="get" action="/"><label for="q">{label}</label><br>
<input type="text" id="q" name="q" autocomplete="off" autofocus> <button type="submit">{ask}</button>
</form><p class="where">{hint}</p>
<script type="application/json" id="coach-strings">{strings}</script>
<script src="/static/chat.js" defer></script></body></html>"""


def browser_language(request: Request) -> str | None:
    """The browser's most preferred language the coach speaks (Accept-Language), or None."""
    return from_accept_language(request.headers.get("accept-language"))


def page_language(request: Request, learner: str) -> str:
    """The page's own words: in the learner's language once the coach knows them (their choice, the language they
    write in), else in the browser's."""
    coach = request.app.state.container.coach
    return coach.language_of(learner) if coach.knows(learner) else browser_language(request) or LANGUAGES[0]


def _text(text: str) -> str:
    """A text of the catalog as HTML (its *stressed* words in <em>)."""
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escape(text, quote=False))


def page_html(language: str, body: str) -> str:
    """The chat page around `body`, in `language`; what chat.js says itself goes with it as JSON."""
    with speaking(language) as lang:
        strings = {"thinking": _("Looking through the learning content…"),
                   "unreachable": _("The coach could not be reached. Check your connection and ask again.")}
        return PAGE.format(lang=lang, title=_text(_("Learning coach")),
                           label=_text(_("Ask about your company's learning content")), ask=_text(_("Ask")),
                           hint=_text(_("Say *help* to see what else I can do.")), body=body,
                           strings=json.dumps(strings).replace("<", "\\u003c"))


def learner_of(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if re.fullmatch(r"web-[0-9a-f]{32}", value) else f"web-{secrets.token_hex(16)}"


def with_cookie(response: Response, learner_id: str) -> Response:
    response.set_cookie(COOKIE, learner_id, httponly=True, samesite="strict", max_age=365 * 24 * 3600)
    return response


def render(reply: Reply) -> str:
    """One reply as HTML, its own words in the reply's language; source anchors carry a key of their own, as a
    conversation holds several replies."""
    with speaking(reply.language):
        return _render(reply)


def _updated(when) -> str:
    """"updated 05 Mar 2026" (not strftime's %b: that follows the server's locale)."""
    return _("updated {date}").format(date=short_date(when))


def _render(reply: Reply) -> str:
    key, lines = reply.need_id[:12] or secrets.token_hex(6), []
    for line in escape(reply.text).splitlines():
        if not line.strip():
            continue
        line = re.sub(r"\[(\d+)\]", rf'<a href="#source-{key}-\1">[\1]</a>', line)
        if reply.mode == "service":  # the coach's own words may stress a phrase; quoted content stays as written
            line = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", line)
            line = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", line)
        lines.append(f"<blockquote>{line[5:]}</blockquote>" if line.startswith("&gt; ") else f"<p>{line}</p>")
    sources = "".join(
        f'<li id="source-{key}-{c.n}"><strong>{escape(c.title)}</strong> <span class=where>{escape(c.where)}'
        f' · {escape(_updated(c.updated_at), quote=False)}</span></li>' for c in reply.citations
    )
    buttons = "".join(
        f'<form method="post" action="/action"><input type="hidden" name="value" value="{escape(a.value)}">'
        f'<button name="kind" value="{a.kind}">{escape(a.label)}</button></form>' for a in reply.actions)
    notice = f'<p class="notice">{escape(reply.notice)}</p>' if reply.notice else ""
    listing = f"<h2>{_text(_('Sources'))}</h2><ol>{sources}</ol>" if sources else ""
    actions = f'<div class="actions">{buttons}</div>' if buttons else ""
    return f'<section class="answer">{notice}{"".join(lines)}{listing}{actions}</section>'


def message_of(learner: str, question: str, history: tuple[Turn, ...] = (),
               locale: str | None = None) -> IncomingMessage:
    """`locale`: the browser's language (browser_language), if it says one the coach speaks."""
    return IncomingMessage(learner_id=learner, text=question, history=history, channel="web", platform="web",
                           locale=locale or "")


def as_json(reply: Reply) -> dict:
    return {"answer": reply.text, "abstained": reply.abstained, "mode": reply.mode, "need_id": reply.need_id,
            "language": reply.language,
            "citations": [c.as_json() for c in reply.citations], "notice": reply.notice,
            "actions": [{"kind": a.kind, "label": a.label, "value": a.value} for a in reply.actions]}


def exchange(question: str, reply: Reply) -> str:
    return f'<p class="question">{escape(question)}</p>{render(reply)}'


@router.get("/", response_class=HTMLResponse)
def page(request: Request, q: str = "") -> Response:
    learner, body, language = learner_of(request), "", None
    if q.strip():
        reply = request.app.state.container.coach.ask(message_of(learner, q, locale=browser_language(request)))
        body, language = exchange(q, reply), reply.language  # the page speaks as the answer does
    return with_cookie(HTMLResponse(page_html(language or page_language(request, learner), body)), learner)


@router.get("/static/chat.js", include_in_schema=False)
def script() -> Response:
    return Response(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.post("/action", response_class=HTMLResponse)
def action(request: Request, kind: str = Form(pattern=r"^[a-z_]{1,20}$"), value: str = Form("", max_length=200)) -> Response:
    """A button under a reply: rate it, ask for a person, confirm or cancel "forget me", resume."""
    learner = learner_of(request)
    try:
        body, status = f'<div role="status">{render(request.app.state.container.coach.act(learner, kind, value))}</div>', 200
    except NotFound as exc:
        body, status = f"<p role=status>{escape(str(exc))}</p>", 404
    except ValueError as exc:
        body, status = f"<p role=status>{escape(str(exc))}</p>", 400
    return with_cookie(HTMLResponse(page_html(page_language(request, learner), body), status_code=status), learner)


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=20_000)  # the coach itself says when one is too long to read
    history: list[dict] = Field(default_factory=list, max_length=20)  # [{"speaker": "learner"|"coach", "text"}]

    def message(self, learner: str, locale: str | None) -> IncomingMessage:
        turns = tuple(Turn(t.get("speaker", "learner"), str(t.get("text", ""))[:2000]) for t in self.history)
        return message_of(learner, self.question, turns, locale)


@router.post("/api/ask")
def api_ask(request: Request, body: AskBody) -> Response:
    learner = learner_of(request)
    reply = request.app.state.container.coach.ask(body.message(learner, browser_language(request)))
    return with_cookie(JSONResponse(as_json(reply)), learner)


@router.post("/api/ask/stream")
async def api_ask_stream(request: Request, body: AskBody) -> Response:
    """Newline-delimited JSON: `{"partial": text so far}` while a model writes, then `{"reply", "html"}` (or
    `{"error"}`, in the browser's language). The answer is made in a worker thread; partial texts that pile up are
    sent as the latest one. When the browser goes away the model call is cancelled: it stops generating."""
    learner, coach = learner_of(request), request.app.state.container.coach
    loop, events, language = asyncio.get_running_loop(), asyncio.Queue(), browser_language(request)
    cancel = threading.Event()

    def work() -> None:
        try:
            reply = coach.ask(body.message(learner, language),
                              lambda text: loop.call_soon_threadsafe(events.put_nowait, text), cancel)
            loop.call_soon_threadsafe(events.put_nowait, reply)
        except Exception as exc:  # the learner gets a reply whatever happened; the details go to the log
            log.exception("web chat answer failed")
            loop.call_soon_threadsafe(events.put_nowait, exc)

    async def next_event():
        while True:  # the browser may leave while nothing is sent: look every half second
            with contextlib.suppress(asyncio.TimeoutError):
                return await asyncio.wait_for(events.get(), DISCONNECT_POLL_S)
            if await request.is_disconnected():
                raise ConnectionError("the browser went away")

    async def stream():
        worker = loop.run_in_executor(None, work)
        try:
            while True:
                item = await next_event()
                while isinstance(item, str) and not events.empty():
                    item = events.get_nowait()
                if isinstance(item, str):
                    yield json.dumps({"partial": item}) + "\n"
                    continue
                if isinstance(item, Reply):
                    yield json.dumps({"reply": as_json(item), "html": render(item)}) + "\n"
                else:
                    with speaking(language):
                        failed = _(FAILED)
                    yield json.dumps({"error": failed}) + "\n"
                break
        except (ConnectionError, asyncio.CancelledError, GeneratorExit):
            cancel.set()
            log.info("the browser went away; the model call is cancelled")
            raise
        finally:
            if not cancel.is_set():
                await worker

    return with_cookie(StreamingResponse(stream(), media_type="application/x-ndjson"), learner)


@router.get("/api/me")
def api_me(request: Request) -> Response:
    """Everything the coach keeps about this browser's learner, as JSON."""
    learner = learner_of(request)
    return with_cookie(JSONResponse(request.app.state.container.coach.export(learner)), learner)


@router.get("/api/search")
def api_search(request: Request, q: str = Query(min_length=1, max_length=2000), k: int = Query(5, ge=1, le=20)) -> list[dict]:
    passages = request.app.state.container.knowledge.search(q, k=k)
    return [p.as_json() for p in passages]
