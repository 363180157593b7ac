"""The page shell every admin area builds on: one Jinja2 base layout (templates/base.html), the navigation that
areas register into, and `render`, which fills in the signed-in account, the links its role may open and the CSRF
token.

Adding an area (say Content): a module `connectors/admin/content.py` with
    router = page_router()                      # CSRF-checked for every POST/PUT/PATCH/DELETE
    NAV = [NavLink("Content", "/admin/content", roles=("ld-admin",), order=10)]
    @router.get("/admin/content")
    def sources(request: Request, account: Account = Depends(require("ld-admin"))):
        return render(request, "content.html", {"sources": ...})
a template `templates/content.html` that starts with `{% extends "base.html" %}` and fills `{% block content %}`,
and one line in AREAS (connectors/admin/__init__.py). Its link shows up only then, and only for those roles.
Standard orders: Content 10, Lessons 20, Gaps 30, Reports 40, Nudges 50, Audit 90.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from connectors.admin.auth import csrf_protect, csrf_token, permitted

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    roles: tuple[str, ...] = ()  # who sees it (ld-admin always); empty: every signed-in role
    order: int = 100

    def shown_to(self, role: str) -> bool:
        return permitted(role, self.roles)


def page_router(**kwargs) -> APIRouter:
    """An APIRouter for admin pages: HTML by default and CSRF-checked on every unsafe method."""
    return APIRouter(dependencies=[Depends(csrf_protect)], default_response_class=HTMLResponse, **kwargs)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))  # autoescapes .html
    templates.env.globals["csrf_field"] = "csrf_token"
    return templates


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    """A page from `name` (a template extending base.html) with the shell's context: `account` (or None), `nav`
    (the links its role may open), `csrf_token`, `path`; `context` adds to it or overrides it."""
    account = getattr(request.state, "account", None) or getattr(request.state, "admin_account", None)
    links = sorted(request.app.state.admin_nav, key=lambda link: (link.order, link.label))
    shell = {"account": account, "nav": [link for link in links if account and link.shown_to(account.role)],
             "csrf_token": csrf_token(request), "path": request.url.path}
    return request.app.state.admin_templates.TemplateResponse(request, name, {**shell, **(context or {})},
                                                              status_code=status_code, headers=headers)
