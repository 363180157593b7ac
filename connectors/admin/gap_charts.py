"""The pictures of the content-gaps page: one Vega-Lite chart of unanswered questions per week (drawn in the page by
the vendored scripts, like the reports' charts in charts.py) and, per cluster, a tiny bar sparkline of its weekly
questions drawn on the server as inline SVG, so the list needs no script and no chart library at all.

Both count questions only; no text or asker goes into them.
"""

from __future__ import annotations

from coach.gaps.report import Cluster
from connectors.admin.charts import BLUE, ORANGE, SCHEMA

OPEN, CLOSED = "Still open", "Closed since"
SPARK_WIDTH, SPARK_HEIGHT, SPARK_GAP = 96, 24, 2


def weekly_totals(clusters: list[Cluster]) -> list[dict]:
    """Per week (oldest first): questions in clusters still open and in clusters closed since, and both. Every
    cluster of one report shares the same weeks (report.clusters counts the same `weeks` up to now)."""
    weeks: dict[str, dict] = {}
    for cluster in clusters:
        for point in cluster.weekly:
            row = weeks.setdefault(point["week"], {"week": point["week"], "open": 0, "closed": 0, "questions": 0})
            row["open" if cluster.status == "open" else "closed"] += point["questions"]
            row["questions"] += point["questions"]
    return [weeks[week] for week in sorted(weeks)]


def over_time(clusters: list[Cluster]) -> dict:
    """Stacked bars per week: the questions the content could not answer, split by whether their cluster is still
    open or has been closed by new content since (orange for open, blue for closed, as in the reports)."""
    rows = weekly_totals(clusters)
    values = [{"week": r["week"], "status": label, "questions": r[key]} for r in rows
              for key, label in (("open", OPEN), ("closed", CLOSED))]
    still_open, closed = sum(r["open"] for r in rows), sum(r["closed"] for r in rows)
    return {"$schema": SCHEMA, "title": "Unanswered questions per week",
            "description": f"Stacked bars per week over the last {len(rows)} weeks: questions the content could not "
                           f"answer, {still_open} in clusters still open and {closed} in clusters closed since by "
                           "new content.",
            "width": "container", "height": 200, "autosize": {"type": "fit", "contains": "padding"},
            "data": {"values": values}, "usermeta": {"table": "gaps_per_week", "empty": not (still_open + closed)},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {"field": "week", "type": "ordinal", "title": "Week of", "axis": {"labelAngle": 0}},
                "y": {"field": "questions", "type": "quantitative", "aggregate": "sum", "stack": "zero",
                      "title": "Questions", "axis": {"tickMinStep": 1, "format": "d"}},
                "color": {"field": "status", "type": "nominal", "title": "Cluster", "sort": [OPEN, CLOSED],
                          "scale": {"domain": [OPEN, CLOSED], "range": [ORANGE, BLUE]}}}}


def sparkline(weekly: list[dict]) -> dict:
    """One cluster's weekly questions as SVG bars in a SPARK_WIDTH x SPARK_HEIGHT box (an empty week keeps a hairline,
    so the weeks stay countable), with a sentence saying the same for screen readers."""
    count = max(1, len(weekly))
    peak = max((w["questions"] for w in weekly), default=0) or 1
    width = (SPARK_WIDTH - SPARK_GAP * (count - 1)) / count
    bars = []
    for n, point in enumerate(weekly):
        height = max(1.0, (SPARK_HEIGHT - 1) * point["questions"] / peak)
        bars.append({"x": round(n * (width + SPARK_GAP), 2), "y": round(SPARK_HEIGHT - height, 2),
                     "width": round(width, 2), "height": round(height, 2), "empty": not point["questions"],
                     "title": f"Week of {point['week']}: {point['questions']}"})
    counts = ", ".join(str(w["questions"]) for w in weekly)
    return {"width": SPARK_WIDTH, "height": SPARK_HEIGHT, "bars": bars,
            "label": f"Questions per week over the last {len(weekly)} weeks, oldest first: {counts}"}
