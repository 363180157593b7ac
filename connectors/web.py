"""The built-in web page: search the knowledge base as an anonymous learner (audience `everyone` only)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Learning coach</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
input{{font:inherit;width:70%;padding:.4rem}}button{{font:inherit;padding:.4rem 1rem}}
li{{margin:.8rem 0}}.where{{color:#555}}</style></head><body>
<h1>Learning coach</h1>
<form method="get" action="/"><label for="q">Ask about your company's learning content</label><br>
<input id="q" name="q" value="{query}" autofocus> <button type="submit">Search</button></form>
{results}</body></html>"""


@router.get("/", response_class=HTMLResponse)
def page(request: Request, q: str = "") -> str:
    results = ""
    if q.strip():
        passages = request.app.state.container.knowledge.search(q, k=5)
        items = "".join(
            f"<li><strong>{escape(p.title)}</strong> <span class=where>{escape(p.where)}</span><br>"
            f"{escape(p.text[:400])}</li>" for p in passages
        )
        results = f"<ol>{items}</ol>" if items else "<p>Nothing in the learning content matches that yet.</p>"
    return PAGE.format(query=escape(q), results=results)


@router.get("/api/search")
def api_search(request: Request, q: str = Query(min_length=1, max_length=2000), k: int = Query(5, ge=1, le=20)) -> list[dict]:
    passages = request.app.state.container.knowledge.search(q, k=k)
    return [{**p.__dict__, "updated_at": p.updated_at.isoformat()} for p in passages]
