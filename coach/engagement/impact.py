"""The impact report, for L&D to take to the business: effect, not activity. Per lesson and per competency: whether
questions on the topic fell after the lesson against matched colleagues (effect.py), quiz accuracy over attempts
and retention at 30 days (mastery.py), questions deflected and the time that saved, as an estimate
(deflection.py), and how much learning went to each team's focus competencies (alignment.py).

The privacy rules are those of the engagement report (scope.py): a team smaller than `min_group` people is refused,
a row fewer than `min_group` people stand behind is not shown (an effect row says "not enough matched learners"),
and only aggregates leave here. The result has the engagement summary's shape (`period`, `totals`, `tables`), so
the same CSV export, page sections and terminal tables serve it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping, Sequence

from sqlalchemy.engine import Engine

from coach.engagement import alignment, deflection, effect, mastery
from coach.engagement.history import History, read
from coach.engagement.impact_tables import IMPACT_TABLES
from coach.engagement.scope import Scope, team_scope
from coach.engagement.tables import table
from coach.reports import MIN_GROUP
from kernel.store import utcnow

DEFAULT_DAYS = 90  # the effect needs 30 days of follow-up after a lesson: a longer period than the others' 30
MAX_DAYS = 366


def report(engine: Engine, *, days: int = DEFAULT_DAYS, team: str | Sequence[str] | None = None,
           competency: str | None = None, min_group: int = MIN_GROUP, minutes_per_question: float = 10.0,
           now: datetime | None = None, names: Mapping[str, str] | None = None) -> dict:
    """The impact report for the `days` before `now`, for everyone or the given team(s), optionally one competency.
    Raises Forbidden for a team smaller than `min_group`, ValueError for a period outside 1..MAX_DAYS days."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"the period must be 1 to {MAX_DAYS} days, not {days}")
    if min_group < 1:
        raise ValueError("the privacy threshold must be at least one person")
    now = now or utcnow()
    scope = Scope(since=now - timedelta(days=days), until=now, teams=team_scope(engine, team, min_group),
                  competency=(competency or "").strip() or None, min_group=min_group, names=dict(names or {}))
    return build(read(engine, scope), scope, days=days, minutes_per_question=minutes_per_question)


def build(history: History, scope: Scope, *, days: int, minutes_per_question: float) -> dict:
    """The report from a history already read (see history.py)."""
    lesson_name, competencies = history.title, lambda key: [c for c in history.competencies(key)
                                                            if scope.keeps([c])]
    tables = {
        "effect_by_lesson": _effect_table("effect_by_lesson", "lesson", effect.by_lesson(history, scope),
                                          lesson_name),
        "effect_by_competency": _effect_table("effect_by_competency", "competency",
                                              effect.by_competency(history, scope), scope.name),
        "attempts_by_lesson": _table("attempts_by_lesson", *mastery.attempt_rows(
            mastery.attempts(history, scope, lambda key: [key]), scope, lesson_name, "lesson")),
        "attempts_by_competency": _table("attempts_by_competency", *mastery.attempt_rows(
            mastery.attempts(history, scope, competencies), scope, scope.name, "competency")),
        "retention_by_lesson": _table("retention_by_lesson", *mastery.retention_rows(
            mastery.retention(history, scope, lambda key: [key]), scope, lesson_name, "lesson")),
        "retention_by_competency": _table("retention_by_competency", *mastery.retention_rows(
            mastery.retention(history, scope, competencies), scope, scope.name, "competency")),
    }
    rows, hidden, everything = deflection.per_competency(history, scope, minutes_per_question)
    tables["deflection"] = _table("deflection", rows, hidden)
    tables["deflection"]["method"] = tables["deflection"]["method"].format(minutes=f"{minutes_per_question:g}")
    tables["alignment"] = _table("alignment", *alignment.per_team_week(history, scope))
    totals = _totals(tables, everything, scope, minutes_per_question)
    return {"period": {"days": days, "since": scope.since.isoformat(), "until": scope.until.isoformat(),
                       "time_zone": "UTC", "team": list(scope.teams), "competency": scope.competency,
                       "min_group": scope.min_group, "minutes_per_question": minutes_per_question,
                       "follow_up_days": effect.FOLLOW_UP.days},
            "totals": {key: value for key, _label, value in totals},
            "tables": {"totals": _table("totals", [{"measure": label, "value": value}
                                                   for _key, label, value in totals]), **tables}}


def _effect_table(name: str, column: str, estimates: list[tuple[str, effect.Estimate]], label) -> dict:
    rows = []
    for key, found in estimates:
        shown = found.difference is not None
        rows.append({column: key, "name": label(key), "status": found.status,
                     **{field: getattr(found, field) if shown else None for field in (
                         "taken", "matches", "prior_taken", "prior_matched", "after_taken", "after_matched",
                         "difference", "low", "high")}})
    return _table(name, rows)


def _table(name: str, rows: list[dict], hidden: int = 0) -> dict:
    return table(name, rows, hidden, IMPACT_TABLES)


def _totals(tables: dict, everything, scope: Scope, minutes: float) -> list[tuple[str, str, object]]:
    """The lines at a glance: deflection over the whole period (when enough people asked), and how many lessons
    show fewer questions after them."""
    lines: list[tuple[str, str, object]] = []
    if scope.enough(everything.people):
        deflected = everything.counts["deflected"]
        lines += [("questions", "Questions asked", everything.counts["questions"]),
                  ("deflected", "Questions deflected (answered, rated helpful)", deflected),
                  ("hours_saved_estimate", f"Time saved, estimate (hours, at {minutes:g} minutes a question)",
                   round(deflected * minutes / 60, 1))]
    effects = [row for row in tables["effect_by_lesson"]["rows"] if row["difference"] is not None]
    if effects:
        lines += [("lessons_with_effect", "Lessons with an estimated effect", len(effects)),
                  ("lessons_fewer_questions", "Lessons followed by fewer questions (interval below 0)",
                   sum(1 for row in effects if row["high"] < 0))]
    return lines
