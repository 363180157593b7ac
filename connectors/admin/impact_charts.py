"""Vega-Lite specs for the impact page, built from an impact report (coach/engagement/impact.py) the way charts.py
builds the engagement report's: data inline (one table's rows, already privacy-checked), a title, a `description`
Vega puts on the drawing as its ARIA label, and `usermeta.table` naming the table under the chart that has the same
numbers. Rows without a number ("not enough matched learners") are left out of a chart but stay in its table."""

from __future__ import annotations

from connectors.admin.charts import BLUE, GREY, MIDDLE, ORANGE, PALE, _PERCENT, _rows, _spec

ATTEMPT_COLOURS = dict(zip(("1st", "2nd", "3rd+"), (PALE, MIDDLE, BLUE)))


def charts(report: dict) -> dict[str, dict]:
    """Every chart of the impact page, by id, in page order."""
    return {name: build(report) for name, build in BUILDERS.items()}


def _effect(table: str, what: str):
    def build(report: dict) -> dict:
        rows = [r for r in _rows(report, table) if r["difference"] is not None]
        fewer = [r["name"] for r in rows if r["high"] < 0]
        return _spec(table, f"Effect on questions, per {what}",
                     f"Dots with 95% intervals: the difference in questions per learner in the 30 days after "
                     f"{'the lesson' if what == 'lesson' else 'a first lesson on it'}, against matched learners who "
                     "did not take it; left of zero is fewer questions. "
                     f"{len(rows)} {what}s estimated; fewer questions after: {', '.join(fewer) or 'none'}.", rows,
                     height=max(120, 34 * len(rows)),
                     layer=[{"mark": {"type": "rule", "color": GREY, "strokeDash": [4, 3]},
                             "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
                            {"mark": {"type": "rule", "strokeWidth": 2, "tooltip": True},
                             "encoding": {"y": _names(), "color": _verdict(),
                                          "x": {"field": "low", "type": "quantitative",
                                                "title": "Difference in questions per learner (95% interval)"},
                                          "x2": {"field": "high"}}},
                            {"mark": {"type": "point", "filled": True, "size": 70, "tooltip": True},
                             "encoding": {"y": _names(), "color": _verdict(),
                                          "x": {"field": "difference", "type": "quantitative"}}}])
    return build


def _names() -> dict:
    return {"field": "name", "type": "nominal", "title": None, "sort": None, "axis": {"labelLimit": 260}}


def _verdict() -> dict:
    verdicts = {"fewer questions": BLUE, "no clear difference": GREY, "more questions": ORANGE}
    return {"field": "status", "type": "nominal", "title": "Result", "scale": {"domain": list(verdicts),
                                                                               "range": list(verdicts.values())}}


def _attempts(table: str, what: str):
    def build(report: dict) -> dict:
        rows = _rows(report, table)
        firsts = [r["accuracy"] for r in rows if r["attempt"] == "1st"]
        later = [r["accuracy"] for r in rows if r["attempt"] != "1st"]
        return _spec(table, f"Quiz accuracy by attempt, per {what}",
                     f"Grouped bars per {what}: the share of right answers at the 1st, 2nd and 3rd or later answer, "
                     f"from 0 to 100 percent. {len({r['name'] for r in rows})} {what}s; mean of 1st answers "
                     f"{_mean(firsts):.0%}, of later ones {_mean(later):.0%}.", rows,
                     mark={"type": "bar", "tooltip": True},
                     encoding={"x": {"field": "name", "type": "nominal", "title": None,
                                     "axis": {"labelAngle": -30, "labelLimit": 160}},
                               "xOffset": {"field": "attempt", "sort": list(ATTEMPT_COLOURS)},
                               "y": {"field": "accuracy", "type": "quantitative", "title": "Right",
                                     "scale": {"domain": [0, 1]}, "axis": _PERCENT},
                               "color": {"field": "attempt", "type": "nominal", "title": "Attempt",
                                         "sort": list(ATTEMPT_COLOURS),
                                         "scale": {"domain": list(ATTEMPT_COLOURS),
                                                   "range": list(ATTEMPT_COLOURS.values())}}})
    return build


def _retention(table: str, what: str):
    def build(report: dict) -> dict:
        rows = _rows(report, table)
        return _spec(table, f"Retention at 30 days, per {what}",
                     f"Horizontal bars: the recall FSRS predicts 30 days after each card's last review, per {what}, "
                     f"from 0 to 100 percent; {sum(r['cards'] for r in rows)} cards in all.", rows,
                     height=max(120, 26 * len(rows)), mark={"type": "bar", "tooltip": True, "color": BLUE},
                     encoding={"y": {"field": "name", "type": "nominal", "title": None, "sort": "-x",
                                     "axis": {"labelLimit": 260}},
                               "x": {"field": "recall_30d", "type": "quantitative", "title": "Predicted recall",
                                     "scale": {"domain": [0, 1]}, "axis": _PERCENT}})
    return build


def deflection(report: dict) -> dict:
    rows = _rows(report, "deflection")
    minutes = report["period"]["minutes_per_question"]
    deflected = sum(r["deflected"] for r in rows)
    return _spec("deflection", "Questions deflected (time saved: an estimate)",
                 f"Horizontal bars per competency: questions answered and rated helpful, {deflected} in all; the "
                 f"tooltip has the time saved, an estimate at {minutes:g} minutes a question.", rows,
                 height=max(120, 26 * len(rows)), mark={"type": "bar", "tooltip": True, "color": BLUE},
                 encoding={"y": {"field": "name", "type": "nominal", "title": None, "sort": "-x"},
                           "x": {"field": "deflected", "type": "quantitative", "title": "Questions deflected",
                                 "axis": {"tickMinStep": 1, "format": "d"}},
                           "tooltip": [{"field": "name", "title": "Competency"},
                                       {"field": "deflected", "title": "Deflected"},
                                       {"field": "minutes_saved_estimate",
                                        "title": "Minutes saved (estimate)"}]})


def alignment(report: dict) -> dict:
    rows = _rows(report, "alignment")
    return _spec("alignment", "Share of learning on each team's focus",
                 "Lines per team: the share of the team's questions, lessons and reviews on its focus "
                 f"competencies, per week, from 0 to 100 percent. {len({r['team'] for r in rows})} teams shown.",
                 rows, mark={"type": "line", "point": True, "tooltip": True},
                 encoding={"x": {"field": "week", "type": "temporal", "timeUnit": "utcyearmonthdate",
                                 "title": "Week of", "axis": {"format": "%d %b"}},
                           "y": {"field": "on_focus_share", "type": "quantitative", "title": "On focus",
                                 "scale": {"domain": [0, 1]}, "axis": _PERCENT},
                           "color": {"field": "team", "type": "nominal", "title": "Team"}})


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


BUILDERS = {"effect_by_lesson": _effect("effect_by_lesson", "lesson"),
            "effect_by_competency": _effect("effect_by_competency", "competency"),
            "attempts_by_lesson": _attempts("attempts_by_lesson", "lesson"),
            "attempts_by_competency": _attempts("attempts_by_competency", "competency"),
            "retention_by_lesson": _retention("retention_by_lesson", "lesson"),
            "retention_by_competency": _retention("retention_by_competency", "competency"),
            "deflection": deflection, "alignment": alignment}
