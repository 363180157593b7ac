"""The impact report for scripts and checks (bearer token): JSON at /api/admin/reports/impact and each table as CSV,
with the same filters, roles and team scoping as the page (connectors/admin/impact.py) and the engagement API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from coach.engagement.impact import DEFAULT_DAYS
from coach.services.reports import scoped_team
from coach.store.models import Account
from connectors.admin.auth import require_token
from connectors.admin.context import container_of
from connectors.admin.impact import build
from connectors.admin.reports import TABLE, audit_export, csv_response, period_days, refuse
from kernel.errors import Forbidden, NotFound

router = APIRouter(prefix="/api/admin/reports/impact", tags=["admin"])
READERS = Depends(require_token("manager", "viewer"))  # ld-admin passes too


def _report(request: Request, account: Account, days: int, team: str, competency: str) -> dict:
    container = container_of(request)
    try:
        chosen = scoped_team(container.engine, account, team)
        return build(container, days=period_days(days), team=chosen, competency=competency)
    except Forbidden as exc:
        refuse(request, exc)
        raise HTTPException(403, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("")
def impact(request: Request, days: int = Query(DEFAULT_DAYS, description="The period: this many days up to now."),
           team: str = Query("", max_length=100, description="One team; empty: every team (not for managers)."),
           competency: str = Query("", max_length=64, description="Only what concerns this competency id."),
           account: Account = READERS) -> dict:
    """The impact report: `period`, `totals` and `tables` ({name: {title, description, method, columns, rows,
    hidden_rows}}), as coach/engagement/impact.py builds it; aggregates only."""
    return _report(request, account, days, team, competency)


@router.get("/{table}.csv")
def export(request: Request, table: str = TABLE, days: int = Query(DEFAULT_DAYS),
           team: str = Query("", max_length=100), competency: str = Query("", max_length=64),
           account: Account = READERS):
    """One table of the impact report as CSV, e.g. /api/admin/reports/impact/effect_by_lesson.csv?days=90."""
    report = _report(request, account, days, team, competency)
    try:
        answer = csv_response(report, table, prefix="coach-impact")
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    audit_export(request, f"impact/{table}", report)
    return answer
