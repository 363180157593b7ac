"""The shell's own pages: sign-in (password), sign-out, the /admin overview for each role, and the audit log."""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Integer, cast, func
from sqlmodel import select

from coach import accounts
from coach.store.db import session
from coach.store.models import Account, GapQuestion, Learner, Lesson, Need, NudgeSchedule, utcnow
from connectors.admin.auth import (LOGIN_PATH, client_address, require, safe_next, sign_in, sign_out,
                                   signed_in)
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
                                          "sso_label": sso and request.app.state.container.settings.admin_oidc_label},
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
    container, address = request.app.state.container, client_address(request)
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
    container = request.app.state.container
    return render(request, "home.html", {"overview": overview(container.engine, account,
                                                              container.settings.privacy_min_group)})


@router.get("/admin/audit")
def audit_log(request: Request, action: str = Query("", max_length=60), limit: int = Query(200, ge=1, le=1000),
              account: Account = Depends(require(accounts.ADMIN))):
    engine = request.app.state.container.engine
    return render(request, "audit.html", {"entries": accounts.latest_audit(engine, limit=limit, action=action),
                                          "action": action, "limit": limit})


def overview(engine, account: Account, min_group: int) -> list[tuple[str, str]]:
    """A few numbers for the role, as (label, value): what waits for L&D; a manager's teams and schedules; for a
    viewer, the month's questions only when enough people asked that nobody stands out."""
    since = utcnow() - timedelta(days=30)
    rows: list[tuple[str, str]] = []
    with session(engine) as db:
        if account.role == accounts.ADMIN:
            from knowledge.models import Source

            rows.append(("Sources in the knowledge base", str(db.exec(select(func.count()).select_from(Source)).one())))
            rows.append(("Lessons waiting for approval",
                         str(db.exec(select(func.count()).where(Lesson.status == "draft")).one())))
            rows.append(("Questions the content could not answer (30 days)",
                         str(db.exec(select(func.count()).where(Need.answered.is_(False),
                                                                Need.created_at >= since)).one())))
            rows.append(("Open content gaps (clusters of such questions)",
                         str(db.exec(select(func.count(func.distinct(GapQuestion.cluster_id))).where(
                             GapQuestion.closed_at.is_(None), GapQuestion.cluster_id != "")).one())))
            return rows
        if account.role == "manager":
            teams = accounts.teams_of(engine, account) or []
            for team in teams:
                people = db.exec(select(func.count()).where(Learner.team == team)).one()
                rows.append((f"People in {team}", str(people)))
            owners = accounts.schedule_owners(account)
            rows.append(("Your nudge schedules",
                         str(db.exec(select(func.count()).where(NudgeSchedule.owner.in_(owners))).one())))
            if not teams:
                rows.append(("Teams", "none linked yet: ask an L&D admin (`coach users set-role ... --team`)"))
            return rows
        asked = db.exec(select(func.count(), func.count(func.distinct(Need.learner_id)),
                               func.sum(cast(Need.answered, Integer))).where(Need.created_at >= since)).one()
    questions, people, answered = asked[0], asked[1], asked[2] or 0
    if people >= min_group:
        rows.append(("Questions asked (30 days)", str(questions)))
        rows.append(("Answered from the content", f"{answered / questions:.0%}" if questions else "-"))
    else:
        rows.append(("Questions asked (30 days)", f"hidden: fewer than {min_group} people asked"))
    return rows
