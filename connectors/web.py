"""The built-in web chat: ask, see the cited answer, rate it. Anonymous visitors see `everyone` content only.

Each browser gets a random learner id in a cookie, so its questions, feedback, export and deletion stay its own.
"""

from __future__ import annotations

import re
import secrets
from html import escape

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from coach.conversation import Turn
from coach.errors import NotFound
from coach.messages import IncomingMessage, Reply

router = APIRouter()
COOKIE = "coach_learner"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Learning coach</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
input[type=text]{{font:inherit;width:70%;padding:.4rem}}button{{font:inherit;padding:.4rem 1rem;margin-right:.4rem}}
blockquote{{margin:.4rem 0;padding-left:.8rem;border-left:4px solid #2b6cb0}}.where,.notice{{color:#444}}
.answer{{margin:1.2rem 0}}</style></head><body>
<h1>Learning coach</h1>
<form method="get" action="/"><label for="q">Ask about your company's learning content</label><br>
<input type="text" id="q" name="q" value="{query}" autofocus> <button type="submit">Ask</button></form>
{body}</body></html>"""


def learner_of(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if re.fullmatch(r"web-[0-9a-f]{32}", value) else f"web-{secrets.token_hex(16)}"


def with_cookie(response: Response, learner_id: str) -> Response:
    response.set_cookie(COOKIE, learner_id, httponly=True, samesite="strict", max_age=365 * 24 * 3600)
    return response


def render(reply: Reply) -> str:
    lines = []
    for line in escape(reply.text).splitlines():
        line = re.sub(r"\[(\d+)\]", r'<a href="#source-\1">[\1]</a>', line)
        lines.append(f"<blockquote>{line[5:]}</blockquote>" if line.startswith("&gt; ") else f"<p>{line}</p>")
    sources = "".join(
        f'<li id="source-{c.n}"><strong>{escape(c.title)}</strong> <span class=where>{escape(c.where)}'
        f' · updated {c.updated_at:%d %b %Y}</span></li>' for c in reply.citations
    )
    feedback = "" if reply.abstained else (
        f'<form method="post" action="/feedback"><input type="hidden" name="need_id" value="{escape(reply.need_id)}">'
        '<button name="helpful" value="yes">Helpful</button><button name="helpful" value="no">Not helpful</button></form>'
    )
    notice = f'<p class="notice">{escape(reply.notice)}</p>' if reply.notice else ""
    listing = f"<h2>Sources</h2><ol>{sources}</ol>" if sources else ""
    return f'<section class="answer" aria-live="polite">{notice}{"".join(lines)}{listing}{feedback}</section>'


@router.get("/", response_class=HTMLResponse)
def page(request: Request, q: str = "") -> Response:
    learner, body = learner_of(request), ""
    if q.strip():
        reply = request.app.state.container.coach.ask(
            IncomingMessage(learner_id=learner, text=q[:2000], channel="web", platform="web"))
        body = render(reply)
    return with_cookie(HTMLResponse(PAGE.format(query=escape(q), body=body)), learner)


@router.post("/feedback", response_class=HTMLResponse)
def feedback(request: Request, need_id: str = Form(max_length=64), helpful: str = Form(pattern="^(yes|no)$")) -> Response:
    learner = learner_of(request)
    try:
        request.app.state.container.coach.feedback(need_id=need_id, learner_id=learner, helpful=helpful == "yes")
        message, status = "Thanks: your feedback helps L&D improve the content.", 200
    except NotFound as exc:
        message, status = str(exc), 404
    page_html = PAGE.format(query="", body=f"<p role=status>{escape(message)}</p>")
    return with_cookie(HTMLResponse(page_html, status_code=status), learner)


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    history: list[dict] = Field(default_factory=list, max_length=20)  # [{"speaker": "learner"|"coach", "text"}]


@router.post("/api/ask")
def api_ask(request: Request, body: AskBody) -> Response:
    learner = learner_of(request)
    history = tuple(Turn(t.get("speaker", "learner"), str(t.get("text", ""))[:2000]) for t in body.history)
    reply = request.app.state.container.coach.ask(IncomingMessage(
        learner_id=learner, text=body.question, history=history, channel="web", platform="web"))
    payload = {"answer": reply.text, "abstained": reply.abstained, "mode": reply.mode, "need_id": reply.need_id,
               "citations": [c.as_json() for c in reply.citations]}
    return with_cookie(JSONResponse(payload), learner)


@router.get("/api/search")
def api_search(request: Request, q: str = Query(min_length=1, max_length=2000), k: int = Query(5, ge=1, le=20)) -> list[dict]:
    passages = request.app.state.container.knowledge.search(q, k=k)
    return [p.as_json() for p in passages]
