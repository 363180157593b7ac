"""The built-in web chat: ask, see the cited answer, rate it. Anonymous visitors see `everyone` content only.

Each browser gets a random learner id in a cookie, so its questions, feedback, export and deletion stay its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from html import escape
from pathlib import Path

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from coach.conversation import Turn
from kernel.errors import NotFound
from coach.messages import IncomingMessage, Reply

router = APIRouter()
log = logging.getLogger(__name__)
COOKIE = "coach_learner"
SCRIPT = (Path(__file__).parent / "static" / "chat.js").read_text()
FAILED = "Something went wrong while answering. Please ask again; if it keeps happening, tell the L&D team."

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Learning coach</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
input[type=text]{{font:inherit;width:70%;padding:.4rem}}button{{font:inherit;padding:.4rem 1rem;margin-right:.4rem}}
blockquote{{margin:.4rem 0;padding-left:.8rem;border-left:4px solid #2b6cb0}}.where,.notice{{color:#444}}
.answer{{margin:1.2rem 0}}.question{{font-weight:600;margin-top:1.5rem}}.partial{{white-space:pre-wrap}}
.actions form{{display:inline}}</style></head><body>
<h1>Learning coach</h1>
<div id="conversation" aria-live="polite">{body}</div>
<form id="ask" method="get" action="/"><label for="q">Ask about your company's learning content</label><br>
<input type="text" id="q" name="q" autocomplete="off" autofocus> <button type="submit">Ask</button>
</form><p class="where">Say <em>help</em> to see what else I can do.</p>
<script src="/static/chat.js" defer></script></body></html>"""


def learner_of(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if re.fullmatch(r"web-[0-9a-f]{32}", value) else f"web-{secrets.token_hex(16)}"


def with_cookie(response: Response, learner_id: str) -> Response:
    response.set_cookie(COOKIE, learner_id, httponly=True, samesite="strict", max_age=365 * 24 * 3600)
    return response


def render(reply: Reply) -> str:
    """One reply as HTML; source anchors carry a key of their own, as a conversation holds several replies."""
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
        f' · updated {c.updated_at:%d %b %Y}</span></li>' for c in reply.citations
    )
    buttons = "".join(
        f'<form method="post" action="/action"><input type="hidden" name="value" value="{escape(a.value)}">'
        f'<button name="kind" value="{a.kind}">{escape(a.label)}</button></form>' for a in reply.actions)
    notice = f'<p class="notice">{escape(reply.notice)}</p>' if reply.notice else ""
    listing = f"<h2>Sources</h2><ol>{sources}</ol>" if sources else ""
    actions = f'<div class="actions">{buttons}</div>' if buttons else ""
    return f'<section class="answer">{notice}{"".join(lines)}{listing}{actions}</section>'


def message_of(learner: str, question: str, history: tuple[Turn, ...] = ()) -> IncomingMessage:
    return IncomingMessage(learner_id=learner, text=question[:2000], history=history, channel="web", platform="web")


def as_json(reply: Reply) -> dict:
    return {"answer": reply.text, "abstained": reply.abstained, "mode": reply.mode, "need_id": reply.need_id,
            "citations": [c.as_json() for c in reply.citations], "notice": reply.notice,
            "actions": [{"kind": a.kind, "label": a.label, "value": a.value} for a in reply.actions]}


def exchange(question: str, reply: Reply) -> str:
    return f'<p class="question">{escape(question)}</p>{render(reply)}'


@router.get("/", response_class=HTMLResponse)
def page(request: Request, q: str = "") -> Response:
    learner, body = learner_of(request), ""
    if q.strip():
        body = exchange(q, request.app.state.container.coach.ask(message_of(learner, q)))
    return with_cookie(HTMLResponse(PAGE.format(body=body)), learner)


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
    return with_cookie(HTMLResponse(PAGE.format(body=body), status_code=status), learner)


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    history: list[dict] = Field(default_factory=list, max_length=20)  # [{"speaker": "learner"|"coach", "text"}]

    def message(self, learner: str) -> IncomingMessage:
        turns = tuple(Turn(t.get("speaker", "learner"), str(t.get("text", ""))[:2000]) for t in self.history)
        return message_of(learner, self.question, turns)


@router.post("/api/ask")
def api_ask(request: Request, body: AskBody) -> Response:
    learner = learner_of(request)
    reply = request.app.state.container.coach.ask(body.message(learner))
    return with_cookie(JSONResponse(as_json(reply)), learner)


@router.post("/api/ask/stream")
async def api_ask_stream(request: Request, body: AskBody) -> Response:
    """Newline-delimited JSON: `{"partial": text so far}` while a model writes, then `{"reply", "html"}` (or
    `{"error"}`). The answer is made in a worker thread; partial texts that pile up are sent as the latest one."""
    learner, coach = learner_of(request), request.app.state.container.coach
    loop, events = asyncio.get_running_loop(), asyncio.Queue()

    def work() -> None:
        try:
            reply = coach.ask(body.message(learner), lambda text: loop.call_soon_threadsafe(events.put_nowait, text))
            loop.call_soon_threadsafe(events.put_nowait, reply)
        except Exception as exc:  # the learner gets a reply whatever happened; the details go to the log
            log.exception("web chat answer failed")
            loop.call_soon_threadsafe(events.put_nowait, exc)

    async def stream():
        worker = loop.run_in_executor(None, work)
        while True:
            item = await events.get()
            while isinstance(item, str) and not events.empty():
                item = events.get_nowait()
            if isinstance(item, str):
                yield json.dumps({"partial": item}) + "\n"
                continue
            if isinstance(item, Reply):
                yield json.dumps({"reply": as_json(item), "html": render(item)}) + "\n"
            else:
                yield json.dumps({"error": FAILED}) + "\n"
            break
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
