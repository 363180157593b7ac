"""The shell's own pages: sign-in (password), sign-out, the /admin overview for each role, and the audit log."""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from coach import accounts
from coach.services.overview import DAYS, AdminOverview, ManagerOverview, overview
from coach.store.models import Account
from connectors.admin.auth import (LOGIN_PATH, client_address, require, safe_next, sign_in, sign_out,
                                   signed_in)
from connectors.admin.context import container_of
from connectors.admin.shell import NavLink, page_router, render

router = page_router()
NAV = [NavLink("Audit log", "/admin/audit", roles=(accounts.ADMIN,), order=90)]
WRONG = "Wrong e-mail or password."  # the same for an unknown e-mail: nobody learns who has an account


def public(endpoint):
    """Marks a route that needs no role (signing in and out): verify_routes accepts it without a role check."""
    endpoint.admin_public = True
    return endpoint


def login_page(request: Request, *, next_path: str = "", email: str = "", error: str = "", status: int = 200,
               headers: dict | None = None):
    sso = getattr(request.app.state, "admin_sso", None)
    return render(request, "login.html", {"next": safe_next(next_path), "email": email, "error": error,
                                          "sso_label": sso and container_of(request).settings.admin_oidc_label},
                  status_code=status, headers=headers)


@router.get("/admin/login")
@public
def login_form(request: Request, next: str = ""):
    if signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return login_page(request, next_path=next)


@router.post("/admin/login")
@public
def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("")):
    """A sync route on purpose: argon2 takes tens of milliseconds of CPU, which belongs in the thread pool."""
    container, address = container_of(request), client_address(request)
    settings, engine, email = container.settings, container.engine, email.strip().lower()[:254]
    wait = accounts.sign_in_wait(engine, email=email, address=address, failures=settings.admin_login_failures,
                                 window=timedelta(minutes=settings.admin_login_window_minutes))
    if wait is not None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return login_page(request, next_path=next, email=email, status=429,
                          error=f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
                          headers={"Retry-After": str(max(1, math.ceil(wait.total_seconds())))})
    account = accounts.authenticate(engine, email=email, password=password)
    if account is None:
        accounts.audit(engine, actor=email or "(no e-mail)", action=accounts.SIGN_IN_FAILED, address=address)
        return login_page(request, next_path=next, email=email, error=WRONG, status=401)
    return sign_in(request, account, "password", next)


@router.post("/admin/logout")
@public
def logout(request: Request):
    sign_out(request)
    return RedirectResponse(LOGIN_PATH, status_code=303)


@router.get("/admin")
def home(request: Request, account: Account = Depends(require())):
    """A few numbers for the role: what waits for L&D; a manager's teams and schedules; for a viewer, the month's
    questions only when enough people asked that nobody stands out."""
    container = container_of(request)
    found = overview(container.engine, account, min_group=container.settings.privacy_min_group,
                     count_sources=container.knowledge.count)
    return render(request, "home.html", {"overview": overview_rows(found)})


@router.get("/admin/audit")
def audit_log(request: Request, action: str = Query("", max_length=60), limit: int = Query(200, ge=1, le=1000),
              account: Account = Depends(require(accounts.ADMIN))):
    engine = container_of(request).engine
    return render(request, "audit.html", {"entries": accounts.latest_audit(engine, limit=limit, action=action),
                                          "action": action, "limit": limit})


def overview_rows(found) -> list[tuple[str, str]]:
    """The role's numbers (coach/services/overview.py) as the home page lists them: (label, value)."""
    if isinstance(found, AdminOverview):
        return [("Sources in the knowledge base", str(found.sources)),
                ("Lessons waiting for approval", str(found.drafts)),
                (f"Questions the content could not answer ({DAYS} days)", str(found.unanswered)),
                ("Open content gaps (clusters of such questions)", str(found.open_gaps))]
    if isinstance(found, ManagerOverview):
        rows = [(f"People in {team}", str(people)) for team, people in found.teams]
        rows.append(("Your nudge schedules", str(found.schedules)))
        if not found.teams:
            rows.append(("Teams", "none linked yet: ask an L&D admin (`coach users set-role ... --team`)"))
        return rows
    if found.questions is None:
        return [(f"Questions asked ({DAYS} days)", f"hidden: fewer than {found.min_group} people asked")]
    return [(f"Questions asked ({DAYS} days)", str(found.questions)),
            ("Answered from the content", "-" if found.answered is None else f"{found.answered:.0%}")]
