"""The web chat's conversation over HTTP: ask, press a reply's buttons, see it all again after a reload.

Every form works without JavaScript and ends where it started, the whole conversation with the new reply appended
(post, then redirect to the page: a reload never asks or presses again). chat.js sends the same forms in place:
/api/ask/stream (the answer as it is written) and /api/action (the button's reply as HTML).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from html import escape

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field

from coach import self_service
from coach.conversation import PREVIOUS_QUESTIONS, REPLY_CHARS, Turn
from coach.i18n import N_, _, speaking
from coach.messages import IncomingMessage, Reply
from coach.transcripts import Exchange, Transcripts
from connectors.web.limits import RETRY_AFTER, slowed
from connectors.web.public import citation_json, passage_json
from connectors.web.render import actions_html, exchange_html
from connectors.web.shell import browser_language, learner_of, page_html, page_language, same_origin, with_cookie
from kernel.errors import NotFound

router = APIRouter()
log = logging.getLogger(__name__)
DISCONNECT_POLL_S = 0.5
FAILED = N_("Something went wrong while answering. Please ask again; if it keeps happening, tell the L&D team.")
KIND = r"^[a-z_]{1,20}$"


def transcripts_of(request: Request) -> Transcripts:
    container = request.app.state.container
    return Transcripts(container.engine, container.coach.redactor)


def message_of(learner: str, question: str, history: tuple[Turn, ...] = (),
               locale: str | None = None) -> IncomingMessage:
    """`locale`: the browser's language (browser_language), if it says one the coach speaks."""
    return IncomingMessage(learner_id=learner, text=question, history=history, channel="web", platform="web",
                           locale=locale or "")


def history_of(transcripts: Transcripts, learner: str) -> tuple[Turn, ...]:
    """The last questions of the kept conversation (not those about the learner themselves), for a follow-up."""
    asked = [e for e in transcripts.recent(learner) if e.kind == "ask" and e.reply.mode != "service"]
    return tuple(turn for e in asked[-PREVIOUS_QUESTIONS:]
                 for turn in (Turn("learner", e.said), Turn("coach", e.reply.text[:REPLY_CHARS])))


def as_json(reply: Reply) -> dict:
    return {"answer": reply.text, "abstained": reply.abstained, "mode": reply.mode, "need_id": reply.need_id,
            "language": reply.language,
            "citations": [citation_json(c) for c in reply.citations], "notice": reply.notice,
            "actions": [{"kind": a.kind, "label": a.label, "value": a.value} for a in reply.actions]}


def conversation_html(transcripts: Transcripts, learner: str) -> str:
    return "".join(exchange_html(e, e.reply) for e in transcripts.recent(learner))


def slow_page(request: Request, learner: str, question: str, slow: Reply) -> Response:
    """Too many questions from this address: the conversation with the question and "give me a minute" (not kept)."""
    body = conversation_html(transcripts_of(request), learner) + exchange_html(None, slow, question, "ask")
    return with_cookie(HTMLResponse(page_html(slow.language, body), status_code=429, headers=RETRY_AFTER), learner)


def ask_and_keep(request: Request, learner: str, question: str, history: tuple[Turn, ...] | None = None,
                 on_partial=None, cancel=None) -> tuple[Reply, Exchange]:
    transcripts, coach = transcripts_of(request), request.app.state.container.coach
    turns = history_of(transcripts, learner) if history is None else history
    reply = coach.ask(message_of(learner, question, turns, browser_language(request)), on_partial, cancel)
    return reply, transcripts.asked(learner, question, reply)


@router.get("/", response_class=HTMLResponse)
def page(request: Request, q: str = Query("", max_length=20_000), forgotten: int | None = Query(None, ge=0)):
    """The conversation so far; `q` asks (the form as a GET, or a link), then shows the page without it; after
    "forget me" without JavaScript, `forgotten` says how many questions went."""
    learner = learner_of(request)
    if q.strip():
        if slow := slowed(request, learner):
            return slow_page(request, learner, q, slow)
        _reply, exchange = ask_and_keep(request, learner, q)
        return with_cookie(RedirectResponse(f"/#x-{exchange.id}", status_code=303), learner)
    body, language = conversation_html(transcripts_of(request), learner), page_language(request, learner)
    if forgotten is not None:
        with speaking(language):
            body += exchange_html(None, self_service.forgotten(min(forgotten, 10_000)))
    return with_cookie(HTMLResponse(page_html(language, body)), learner)


@router.post("/ask", dependencies=[Depends(same_origin)])
def ask_form(request: Request, q: str = Form(min_length=1, max_length=20_000)) -> Response:
    learner = learner_of(request)
    if not q.strip():
        return with_cookie(RedirectResponse("/", status_code=303), learner)
    if slow := slowed(request, learner):
        return slow_page(request, learner, q, slow)
    _reply, exchange = ask_and_keep(request, learner, q)
    return with_cookie(RedirectResponse(f"/#x-{exchange.id}", status_code=303), learner)


def press(request: Request, learner: str, kind: str, value: str, on: int | None) -> dict:
    """A button under a reply: its reply joins the conversation (marked on the exchange that offered it), except
    "Yes, forget me", after which nothing of the conversation is kept."""
    coach, transcripts = request.app.state.container.coach, transcripts_of(request)
    before = len(coach.export(learner)["questions"]) if kind == "forget_confirm" else 0
    reply = coach.act(learner, kind, value)
    if kind == "forget_confirm":
        return {"html": exchange_html(None, reply), "cleared": True, "forgotten": before, "reply": as_json(reply)}
    exchange = transcripts.pressed(learner, kind=kind, value=value, reply=reply, on=on)
    source = transcripts.one(learner, on) if on is not None else None
    return {"html": exchange_html(exchange, reply), "id": exchange.id, "reply": as_json(reply),
            "on": on if source else None, "actions": actions_html(source.reply, source.used, on) if source else None}


def _refused(exc: Exception) -> tuple[int, str]:
    return (404 if isinstance(exc, NotFound) else 400), str(exc)


@router.post("/action", response_class=HTMLResponse, dependencies=[Depends(same_origin)])
def action(request: Request, kind: str = Form(pattern=KIND), value: str = Form("", max_length=200),
           on: int | None = Form(None)) -> Response:
    """A button pressed without JavaScript: the page again, with its reply at the end."""
    learner = learner_of(request)
    try:
        done = press(request, learner, kind, value, on)
    except (NotFound, ValueError) as exc:
        status, message = _refused(exc)
        body = conversation_html(transcripts_of(request), learner)
        body += f'<p class="notice" role="alert">{escape(message)}</p>'
        return with_cookie(HTMLResponse(page_html(page_language(request, learner), body), status_code=status),
                           learner)
    target = f"/?forgotten={done['forgotten']}" if done.get("cleared") else f"/#x-{done['id']}"
    return with_cookie(RedirectResponse(target, status_code=303), learner)


@router.post("/api/action", dependencies=[Depends(same_origin)])
def api_action(request: Request, kind: str = Form(pattern=KIND), value: str = Form("", max_length=200),
               on: int | None = Form(None)) -> Response:
    """The same form, sent by chat.js: the new exchange as HTML, and the buttons left on the one that offered it."""
    learner = learner_of(request)
    try:
        return with_cookie(JSONResponse(press(request, learner, kind, value, on)), learner)
    except (NotFound, ValueError) as exc:
        status, message = _refused(exc)
        return with_cookie(JSONResponse({"error": message}, status_code=status), learner)


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=20_000)  # the coach itself says when one is too long to read
    # [{"speaker": "learner"|"coach", "text"}]; none: the kept conversation's last questions
    history: list[dict] = Field(default_factory=list, max_length=20)

    def turns(self) -> tuple[Turn, ...] | None:
        return tuple(Turn(t.get("speaker", "learner"), str(t.get("text", ""))[:2000])
                     for t in self.history) or None


@router.post("/api/ask", dependencies=[Depends(same_origin)])
def api_ask(request: Request, body: AskBody) -> Response:
    learner = learner_of(request)
    if slow := slowed(request, learner):
        return with_cookie(JSONResponse(as_json(slow), status_code=429, headers=RETRY_AFTER), learner)
    reply, _exchange = ask_and_keep(request, learner, body.question, body.turns())
    return with_cookie(JSONResponse(as_json(reply)), learner)


@router.post("/api/ask/stream", dependencies=[Depends(same_origin)])
async def api_ask_stream(request: Request, body: AskBody) -> Response:
    """Newline-delimited JSON: `{"partial": text so far}` while a model writes, then `{"reply", "html", "id"}` (or
    `{"error"}`, in the browser's language; asked too often from this address: a 429 with it). The answer is made in
    a worker thread; partial texts that pile up are sent as the latest one. When the browser goes away the model call
    is cancelled: it stops generating."""
    learner = learner_of(request)
    if slow := slowed(request, learner):
        return with_cookie(JSONResponse({"error": slow.text}, status_code=429, headers=RETRY_AFTER), learner)
    loop, events, language = asyncio.get_running_loop(), asyncio.Queue(), browser_language(request)
    cancel = threading.Event()

    def work() -> None:
        try:
            done = ask_and_keep(request, learner, body.question, body.turns(),
                                lambda text: loop.call_soon_threadsafe(events.put_nowait, text), cancel)
            loop.call_soon_threadsafe(events.put_nowait, done)
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
                if isinstance(item, tuple):
                    reply, exchange = item
                    yield json.dumps({"reply": as_json(reply), "html": exchange_html(exchange, reply),
                                      "id": exchange.id}) + "\n"
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
def api_search(request: Request, q: str = Query(min_length=1, max_length=2000),
               k: int = Query(5, ge=1, le=20)) -> Response:
    passages = request.app.state.container.knowledge.search(q, k=k)
    return JSONResponse([passage_json(p) for p in passages])
