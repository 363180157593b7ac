"""Engagement and effect, for L&D's reports page, its JSON API (`GET /api/admin/reports/summary`) and
`coach report`: what people ask and whether the content answers it, whether lessons are taken and remembered,
whether nudges lead anywhere.

Privacy, the rules of coach/reports.py applied to every table (see coach/engagement/scope.py): only counts leave
here - never a question, a name, or one person's score; a row is shown only when at least `min_group` different
people stand behind it; a team smaller than that is refused. Managers may only see their own teams: the caller
(the route, the CLI) checks that and passes `team`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping, Sequence

from sqlalchemy.engine import Engine

from coach.engagement import learning, nudging, questions
from coach.engagement.export import to_csv
from coach.engagement.scope import Scope, team_scope
from coach.engagement.tables import TABLES, table
from coach.reports import MIN_GROUP
from kernel.store import utcnow

__all__ = ["summary", "to_csv", "TABLES", "MAX_DAYS"]
MAX_DAYS = 366


def summary(engine: Engine, *, days: int = 30, team: str | Sequence[str] | None = None, competency: str | None = None,
            min_group: int = MIN_GROUP, now: datetime | None = None,
            names: Mapping[str, str] | None = None) -> dict:
    """The report for the `days` before `now`, for everyone or the given team(s), optionally one competency.

    Returns plain JSON-ready data: `period` (the filters, UTC bounds), `totals` ({measure: value}, a measure
    missing when too few people stand behind it), and `tables` ({name: {title, description, columns, rows,
    hidden_rows}}, see coach/engagement/tables.py). `names` maps competency ids to the names shown. Raises
    Forbidden for a team smaller than `min_group`, ValueError for a period outside 1..MAX_DAYS days."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"the period must be 1 to {MAX_DAYS} days, not {days}")
    if min_group < 1:
        raise ValueError("the privacy threshold must be at least one person")
    now = now or utcnow()
    scope = Scope(since=now - timedelta(days=days), until=now, teams=team_scope(engine, team, min_group),
                  competency=(competency or "").strip() or None, min_group=min_group, names=dict(names or {}))
    tables: dict[str, dict] = {}
    totals: list[tuple[str, str, object]] = []
    for part in (questions, learning, nudging):
        found, lines = part.tables(engine, scope)
        tables.update(found)
        totals += lines
    return {"period": {"days": days, "since": scope.since.isoformat(), "until": scope.until.isoformat(),
                       "time_zone": "UTC", "team": list(scope.teams), "competency": scope.competency,
                       "min_group": min_group},
            "totals": {key: value for key, _label, value in totals},
            "tables": {"totals": table("totals", [{"measure": label, "value": value} for _key, label, value in totals]),
                       **tables}}
