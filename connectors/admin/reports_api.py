"""The Reports area's API for scripts and checks (bearer token): the engagement summary as JSON and each of its
tables as CSV, with the same filters, roles and team scoping as the page (connectors/admin/reports.py): ld-admin and
viewer tokens may ask for any team or all of them; a manager token only for one of its account's teams, and nothing
for another team or for all teams (403)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from kernel.errors import Forbidden, NotFound
from coach.store.models import Account
from connectors.admin.auth import require_token
from coach.services.reports import scoped_team
from connectors.admin.context import container_of
from connectors.admin.reports import TABLE, audit_export, build, csv_response, period_days, refuse

router = APIRouter(prefix="/api/admin/reports", tags=["admin"])
READERS = Depends(require_token("manager", "viewer"))  # ld-admin passes too


def _summary(request: Request, account: Account, days: int, team: str, competency: str) -> dict:
    """The report for these filters, or the HTTP error that says why not: 403 (another team, all teams for a
    manager, a team below the privacy threshold) or 422 (a period outside 1..366 days, an unknown competency)."""
    container = container_of(request)
    try:
        chosen = scoped_team(container.engine, account, team)
        return build(container, days=period_days(days), team=chosen, competency=competency)
    except Forbidden as exc:
        refuse(request, exc)
        raise HTTPException(403, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/summary")
def summary(request: Request, days: int = Query(30, description="The period: this many days up to now (1-366)."),
            team: str = Query("", max_length=100, description="One team; empty: every team (not for managers)."),
            competency: str = Query("", max_length=64, description="Only what concerns this competency id."),
            account: Account = READERS) -> dict:
    """The engagement summary: `period`, `totals` and `tables` ({name: {title, description, columns, rows,
    hidden_rows}}), as coach/engagement builds it; aggregates only."""
    return _summary(request, account, days, team, competency)


@router.get("/{table}.csv")
def export(request: Request, table: str = TABLE, days: int = Query(30), team: str = Query("", max_length=100),
           competency: str = Query("", max_length=64), account: Account = READERS):
    """One table of the summary as CSV (an attachment), e.g. /api/admin/reports/topics.csv?days=30."""
    report = _summary(request, account, days, team, competency)
    try:
        answer = csv_response(report, table)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    audit_export(request, table, report)
    return answer
