"""The L&D web admin at /admin (pages) and /api/admin (bearer-token API), mounted by connectors/server.py.

Each area is one module with a `router` and a `NAV` list of links (see connectors/admin/shell.py for how to add
one); AREAS below is the one place it is switched on. `verify_routes` refuses to build the app when an area's
route checks no role, or an admin page accepts an unsafe method without the CSRF check.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from connectors.admin import api, pages, sso
from connectors.admin import lessons, lessons_api, nudges, nudges_api
from connectors.admin import content, content_api
from connectors.admin import gaps, gaps_api, impact, impact_api, reports, reports_api
from connectors.admin import learning_records, schema
from connectors.admin.auth import (LOGIN_PATH, UNSAFE_METHODS, PageRefused, SignInRequired, add_session_cookie,
                                   csrf_protect)
from connectors.admin.shell import STATIC, make_templates, render
from connectors.security_headers import SecurityHeaders

AREAS = [pages, sso, api, content, content_api, lessons, lessons_api, nudges, nudges_api, gaps, gaps_api, impact,
         impact_api, reports, reports_api, learning_records, schema]  # areas add themselves here: content, lessons, gaps, reports, nudges


def mount(app: FastAPI, container) -> None:
    settings = container.settings
    verify_routes([area.router for area in AREAS])
    app.state.admin_templates = make_templates()
    app.state.admin_nav = [link for area in AREAS for link in getattr(area, "NAV", [])]
    sso.configure(app, settings)
    for area in AREAS:
        app.include_router(area.router)
    app.mount("/admin/static", StaticFiles(directory=STATIC), name="admin-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(PageRefused, _refused)
    app.add_middleware(SecurityHeaders, paths=("/admin", "/admin/", "/api/admin", "/api/admin/"),
                       cached=("/admin/static/",))
    add_session_cookie(app, settings)


def _to_sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(exc.next_path, safe='/')}", status_code=303)


def _refused(request: Request, exc: PageRefused):
    return render(request, "error.html", {"message": exc.message, "status": exc.status}, status_code=exc.status,
                  headers=exc.headers)


def verify_routes(routers: list[APIRouter]) -> None:
    """Every /admin and /api/admin route of these routers checks a role (`require`/`require_token`) unless it is
    marked public (signing in and out), and every /admin route with an unsafe method checks the CSRF token."""
    problems = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                problems.append(f"{getattr(route, 'path', route)}: an area router holds API routes only (no nested "
                                "routers, no mounts), so that each can be checked")
                continue
            if not route.path.startswith(("/admin", "/api/admin")):
                problems.append(f"{route.path} is outside /admin and /api/admin")
                continue
            calls = _dependency_calls(route.dependant)
            if not getattr(route.endpoint, "admin_public", False) and not any(hasattr(c, "admin_roles")
                                                                               for c in calls):
                problems.append(f"{route.path} checks no role: add Depends(require(...)) or "
                                "Depends(require_token(...))")
            if route.path.startswith("/admin") and route.methods & UNSAFE_METHODS and csrf_protect not in calls:
                problems.append(f"{route.path} takes {sorted(route.methods & UNSAFE_METHODS)} without the CSRF "
                                "check: build its router with shell.page_router()")
    if problems:
        raise RuntimeError("Unsafe admin routes:\n" + "\n".join(problems))


def _dependency_calls(dependant) -> list:
    calls = []
    for dependency in dependant.dependencies:
        calls.append(dependency.call)
        calls += _dependency_calls(dependency)
    return calls
