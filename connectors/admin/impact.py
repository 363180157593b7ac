"""The Reports area's Impact page (/admin/reports/impact): the impact report (coach/engagement/impact.py) as charts,
each with the text that says how it was computed and its numbers in a table under it, and a CSV export of every
table; the same report for scripts is at /api/admin/reports/impact (impact_api.py).

Who sees what is exactly the engagement page's (connectors/admin/reports.py, rules in coach/services/reports.py):
ld-admin and viewers every team, a manager only their own, refusals audited; the privacy floor is the core's.
While simulated history is in the database (`coach demo-data`) the page says so.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Query, Request

from coach.engagement import impact as core
from coach.services import reports as service
from coach.store.models import Account
from connectors.admin import charts, impact_charts
from connectors.admin.auth import PageRefused
from connectors.admin.context import container_of
from connectors.admin.reports import (CHART_SCRIPTS, READERS, TABLE, audit_export, cell, competency_names,
                                      csv_response, period_days, period_text, refuse)
from connectors.admin.shell import page_router, render
from kernel.errors import Forbidden, NotFound

router = page_router()
PERIODS = (30, 90, 180, 365)
SHARES = frozenset({"accuracy", "deflected_share", "on_focus_share", "recall_30d"})
PARTS = (  # the page's four parts: (anchor, heading, what it answers, its tables)
    ("effect", "Effect on questions", "Do people ask less about a topic after its lesson than colleagues who did "
                                      "not take it?", ("effect_by_lesson", "effect_by_competency")),
    ("mastery", "Quiz accuracy and retention", "Do answers get better with each attempt, and how much will people "
                                               "still recall in 30 days?",
     ("attempts_by_lesson", "attempts_by_competency", "retention_by_lesson", "retention_by_competency")),
    ("deflection", "Questions deflected and time saved (estimate)", "How many questions the coach answered well "
                                                                    "enough that nobody else had to?",
     ("deflection",)),
    ("alignment", "Alignment with team focus", "Does learning go to the competencies managers chose for their "
                                               "teams?", ("alignment",)),
)


def build(container, *, days: int, team: str, competency: str) -> dict:
    """The impact report for these filters (already checked against the account); ValueError for a competency the
    framework does not have, Forbidden (from the core) for a team under the privacy threshold."""
    names = competency_names(container)
    competency = competency.strip()
    if competency and competency not in names:
        raise ValueError(f"There is no competency “{competency[:64]}” in the framework; choose one from the list.")
    return service.impact(container.engine, container.settings, days=days, team=team or None,
                          competency=competency or None, names=names)


def impact_cell(key: str, value: object) -> str:
    if isinstance(value, float) and key in SHARES:
        return f"{value:.0%}"
    if isinstance(value, float) and key in ("difference", "low", "high"):
        return f"{value:+.2f}" if value else "0.00"
    return cell(key, value)


def parts(report: dict, specs: dict[str, dict], query: dict) -> list[dict]:
    """The four parts, each with its sections: the chart drawn from a table, how it was computed, the table (labels,
    formatted rows, rows privacy hid) and its CSV link."""
    found = []
    for anchor, heading, question, names in PARTS:
        sections = []
        for name in names:
            table = report["tables"][name]
            rows = table["rows"]
            numeric = {c["key"] for c in table["columns"]
                       if rows and all(isinstance(r.get(c["key"]), (int, float, type(None))) for r in rows)}
            spec = specs[name]
            sections.append({
                "name": name, "title": table["title"], "description": table["description"],
                "method": table.get("method", ""),
                "chart": {"id": name, "title": spec["title"], "empty": spec["usermeta"]["empty"]},
                "columns": [{"label": c["label"], "numeric": c["key"] in numeric} for c in table["columns"]],
                "rows": [[impact_cell(c["key"], row.get(c["key"])) for c in table["columns"]] for row in rows],
                "hidden_rows": table["hidden_rows"],
                "csv": f"/admin/reports/impact/{name}.csv?{urlencode(query)}"})
        found.append({"id": anchor, "heading": heading, "question": question, "sections": sections})
    return found


@router.get("/admin/reports/impact")
def impact_page(request: Request, days: str = Query(str(core.DEFAULT_DAYS), max_length=12),
                custom: str = Query("", max_length=12), team: str | None = Query(None, max_length=100),
                competency: str = Query("", max_length=64), account: Account = READERS):
    container = container_of(request)
    engine, min_group = container.engine, container.settings.privacy_min_group
    team = service.default_team(engine, account) if team is None else team.strip()
    asked = custom.strip() or days.strip()
    context = {"periods": PERIODS, "days": asked, "custom": "" if asked in map(str, PERIODS) else asked,
               "team": team, "teams": service.team_choices(engine, account, min_group),
               "competency": competency.strip(), "competencies": competency_names(container), "min_group": min_group,
               "max_days": core.MAX_DAYS, "error": "", "report": None, "tab": "impact",
               "demo": service.demo_data_present(engine)}
    try:
        team = service.scoped_team(engine, account, team)
        number = period_days(asked)
        report = build(container, days=number, team=team, competency=competency)
    except Forbidden as exc:
        refuse(request, exc)
        return render(request, "impact.html", {**context, "error": str(exc)}, status_code=403)
    except ValueError as exc:
        return render(request, "impact.html", {**context, "error": str(exc)}, status_code=422)
    specs = impact_charts.charts(report)
    query = {"days": number, "team": team, "competency": competency.strip()}
    totals = [(row["measure"], impact_cell("value", row["value"])) for row in report["tables"]["totals"]["rows"]]
    return render(request, "impact.html", {
        **context, "report": report, "period": period_text(report), "totals": totals,
        "parts": parts(report, specs, query), "scripts": CHART_SCRIPTS,
        "charts": {"options": charts.EMBED_OPTIONS, "specs": specs},
        "totals_csv": f"/admin/reports/impact/totals.csv?{urlencode(query)}"})


@router.get("/admin/reports/impact/{table}.csv")
def impact_export(request: Request, table: str = TABLE, days: str = Query(str(core.DEFAULT_DAYS), max_length=12),
                  team: str | None = Query(None, max_length=100), competency: str = Query("", max_length=64),
                  account: Account = READERS):
    """One table of the impact report as CSV, with the page's filters."""
    container = container_of(request)
    engine = container.engine
    try:
        chosen = service.scoped_team(engine, account, service.default_team(engine, account) if team is None else team)
        report = build(container, days=period_days(days), team=chosen, competency=competency)
        answer = csv_response(report, table, prefix="coach-impact")
    except Forbidden as exc:
        refuse(request, exc)
        raise PageRefused(403, str(exc)) from exc
    except NotFound as exc:
        raise PageRefused(404, str(exc)) from exc
    except ValueError as exc:
        raise PageRefused(422, str(exc)) from exc
    audit_export(request, f"impact/{table}", report)
    return answer
