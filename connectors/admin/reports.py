"""The Reports area: L&D's engagement report (coach/engagement) as a page of charts, each with its numbers in a table
under it, and a CSV export of every table; the same report for scripts is at /api/admin/reports (reports_api.py).

Who sees what: ld-admin and viewers may see every team; a manager only their own teams (`accounts.teams_of`).
A manager asking for another team, or for all teams at once, is refused with 403 and sees nothing of it (the refusal
is audited). The privacy rules are the core's: a row fewer than `privacy_min_group` people stand behind is left out
(the page says how many were), a team smaller than that is refused, and only counts ever reach this page: never a
question, a name or one person's score.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from coach import accounts, engagement
from kernel.errors import Forbidden, NotFound
from coach.services.reports import default_team, demo_data_present, scoped_team, team_choices
from coach.store.models import Account
from connectors.admin import charts
from connectors.admin.auth import PageRefused, actor_of, client_address, require
from connectors.admin.context import container_of
from connectors.admin.shell import NavLink, page_router, render

router = page_router()
NAV = [NavLink("Reports", "/admin/reports", roles=("manager", "viewer"), order=40)]
READERS = Depends(require("manager", "viewer"))  # ld-admin passes too
PERIODS = (7, 30, 90, 365)  # the choices offered; any whole number of days from 1 to MAX_DAYS may be asked for
MAX_DAYS = engagement.MAX_DAYS
PERIOD_PROBLEM = f"The period must be a whole number of days from 1 to {MAX_DAYS}"
# Vega compiles its expressions with new Function() unless given this interpreter: with it the page runs under a
# Content-Security-Policy without 'unsafe-eval' (see connectors/security_headers.py)
CHART_SCRIPTS = (*charts.SCRIPTS, "vega-interpreter.min.js")
SHARES = frozenset({"accuracy", "retention", "acted_on_share"})  # columns holding a share from 0 to 1
SHARE_TOTALS = frozenset({"quiz_accuracy", "retention"})
TABLE = Path(max_length=40, pattern="^[a-z_]+$")


# --- who may see which team (the rules are the core's: coach/services/reports.py) ------------------------------------


def refuse(request: Request, exc: Forbidden) -> None:
    """Record a refused report in the audit log (who asked for what), as `require` does for a refused page."""
    accounts.audit(container_of(request).engine, actor=actor_of(request), action="access-denied",
                   target=str(request.url.path), address=client_address(request), detail=str(exc)[:500])


# --- the report ------------------------------------------------------------------------------------------------------


def period_days(value: str | int) -> int:
    """The period in days; ValueError with `PERIOD_PROBLEM` for anything but a whole number from 1 to MAX_DAYS."""
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{PERIOD_PROBLEM}, not “{str(value)[:20]}”.") from None
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"{PERIOD_PROBLEM}, not {days}.")
    return days


def competency_names(container) -> dict[str, str]:
    return {c.id: c.name for c in container.coach.framework.competencies}


def build(container, *, days: int, team: str, competency: str) -> dict:
    """The engagement summary for these filters (already checked against the account). ValueError for a competency
    the framework does not have; Forbidden (from the core) for a team smaller than the privacy threshold."""
    names = competency_names(container)
    competency = competency.strip()
    if competency and competency not in names:
        raise ValueError(f"There is no competency “{competency[:64]}” in the framework; choose one from the list.")
    return engagement.summary(container.engine, days=days, team=team or None, competency=competency or None,
                              min_group=container.settings.privacy_min_group, names=names)


def csv_response(summary: dict, table: str, prefix: str = "coach") -> Response:
    """One table as an Excel-friendly CSV download (see coach/engagement/export.py: formula cells defused).
    NotFound for a table the report does not have."""
    text = engagement.to_csv(summary, table)
    period = summary["period"]
    name = f"{prefix}-{table}-{period['since'][:10]}-to-{period['until'][:10]}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def audit_export(request: Request, table: str, summary: dict) -> None:
    """Exports are recorded: the numbers leave the admin in a file (which table, which filters; no data)."""
    period = summary["period"]
    accounts.audit(container_of(request).engine, actor=actor_of(request), action="report-exported",
                   target=table, address=client_address(request),
                   detail=f"{period['days']} days, team {', '.join(period['team']) or 'every team'}, "
                          f"competency {period['competency'] or 'any'}")


# --- the page --------------------------------------------------------------------------------------------------------


def cell(key: str, value: object) -> str:
    """A value as the page shows it: shares as percentages, whole numbers with separators, no value as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and key in SHARES:
        return f"{value:.0%}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    return str(value)


def sections(summary: dict, specs: dict[str, dict], query: dict[str, str]) -> list[dict]:
    """The page's sections, one per table of the report (totals aside), in the core's order: the charts drawn from
    the table, then the table itself (columns, formatted rows, how many rows privacy hid), then its CSV link."""
    drawn: dict[str, list[dict]] = defaultdict(list)
    for chart_id, spec in specs.items():
        drawn[spec["usermeta"]["table"]].append({"id": chart_id, "title": spec["title"],
                                                 "empty": spec["usermeta"]["empty"]})
    found = []
    for name, table in summary["tables"].items():
        if name == "totals":
            continue
        rows = table["rows"]
        numeric = {c["key"] for c in table["columns"]
                   if rows and all(isinstance(r.get(c["key"]), (int, float, type(None))) for r in rows)}
        found.append({
            "name": name, "title": table["title"], "description": table["description"], "charts": drawn[name],
            "columns": [{"label": c["label"], "numeric": c["key"] in numeric} for c in table["columns"]],
            "rows": [[cell(c["key"], row.get(c["key"])) for c in table["columns"]] for row in rows],
            "hidden_rows": table["hidden_rows"], "csv": f"/admin/reports/{name}.csv?{urlencode(query)}"})
    return found


def totals(summary: dict) -> list[tuple[str, str]]:
    """The period at a glance as (label, value), shares as percentages."""
    keys = list(summary["totals"])
    return [(row["measure"], cell("accuracy" if key in SHARE_TOTALS else key, row["value"]))
            for key, row in zip(keys, summary["tables"]["totals"]["rows"])]


def period_text(summary: dict) -> str:
    since, until = (datetime.fromisoformat(summary["period"][k]) for k in ("since", "until"))
    return f"{since.day} {since:%b %Y} to {until.day} {until:%b %Y}, UTC"


@router.get("/admin/reports")
def reports(request: Request, days: str = Query("30", max_length=12), custom: str = Query("", max_length=12),
            team: str | None = Query(None, max_length=100), competency: str = Query("", max_length=64),
            account: Account = READERS):
    container = container_of(request)
    engine, min_group = container.engine, container.settings.privacy_min_group
    team = default_team(engine, account) if team is None else team.strip()
    asked = custom.strip() or days.strip()
    context = {"periods": PERIODS, "days": asked, "custom": "" if asked in map(str, PERIODS) else asked,
               "team": team, "teams": team_choices(engine, account, min_group), "competency": competency.strip(),
               "competencies": competency_names(container), "min_group": min_group, "max_days": MAX_DAYS,
               "error": "", "summary": None, "tab": "engagement", "demo": demo_data_present(engine)}
    try:
        team = scoped_team(engine, account, team)
        number = period_days(asked)
        summary = build(container, days=number, team=team, competency=competency)
    except Forbidden as exc:
        refuse(request, exc)
        return render(request, "reports.html", {**context, "error": str(exc)}, status_code=403)
    except ValueError as exc:
        return render(request, "reports.html", {**context, "error": str(exc)}, status_code=422)
    specs = charts.charts(summary)
    query = {"days": number, "team": team, "competency": competency.strip()}
    return render(request, "reports.html", {
        **context, "summary": summary, "period": period_text(summary), "totals": totals(summary),
        "sections": sections(summary, specs, query), "scripts": CHART_SCRIPTS,
        "charts": {"options": charts.EMBED_OPTIONS, "specs": specs}, "totals_csv": f"/admin/reports/totals.csv?"
                                                                                 f"{urlencode(query)}"})


@router.get("/admin/reports/{table}.csv")
def export(request: Request, table: str = TABLE, days: str = Query("30", max_length=12),
           team: str | None = Query(None, max_length=100), competency: str = Query("", max_length=64),
           account: Account = READERS):
    """One table of the report as CSV, with the page's filters (a link on the page carries them)."""
    container = container_of(request)
    engine = container.engine
    try:
        chosen = scoped_team(engine, account, default_team(engine, account) if team is None else team)
        summary = build(container, days=period_days(days), team=chosen, competency=competency)
        answer = csv_response(summary, table)
    except Forbidden as exc:
        refuse(request, exc)
        raise PageRefused(403, str(exc)) from exc
    except NotFound as exc:
        raise PageRefused(404, str(exc)) from exc
    except ValueError as exc:
        raise PageRefused(422, str(exc)) from exc
    audit_export(request, table, summary)
    return answer
