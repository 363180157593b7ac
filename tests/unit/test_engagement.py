"""The engagement report's pure parts: the privacy folding of rows, day and week buckets, the CSV export (Excel
and formula injection) and the Vega-Lite specs built from a summary."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coach.engagement import TABLES, to_csv
from coach.engagement.export import safe_cell
from coach.engagement.scope import Bucket, Scope, day, folded, visible, week
from coach.engagement.tables import table
from kernel.errors import NotFound
from connectors.admin import charts

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)
SCOPE = Scope(since=NOW - timedelta(days=30), until=NOW, min_group=3)


def bucket(people: int, **counts: int) -> Bucket:
    found = Bucket()
    for n in range(people):
        found.add(f"p{n}")
    found.counts.update(counts)
    return found


def test_days_and_weeks_are_utc_and_weeks_start_on_monday():
    late_sunday_in_new_york = datetime(2025, 3, 16, 20, 30, tzinfo=ZoneInfo("America/New_York"))  # Monday in UTC
    assert day(late_sunday_in_new_york) == "2025-03-17" and week(late_sunday_in_new_york) == "2025-03-17"
    assert week(datetime(2025, 3, 16, 23, 59)) == "2025-03-10"  # naive, as SQLite returns it: read as UTC
    assert SCOPE.within(NOW - timedelta(days=30)) and not SCOPE.within(NOW) and not SCOPE.within(None)


def test_small_rows_are_left_out_or_folded_and_counted():
    row = lambda key, b: {"key": key, "n": b.counts["n"], "people": len(b.people)}  # noqa: E731
    shown, hidden = visible({"b": bucket(3, n=4), "a": bucket(2, n=9), "c": bucket(5, n=1)}, SCOPE, row)
    assert shown == [{"key": "b", "n": 4, "people": 3}, {"key": "c", "n": 1, "people": 5}] and hidden == 1

    small = {"x": bucket(2, n=5), "y": bucket(1, n=2), "big": bucket(4, n=3)}
    shown, hidden = folded(small, SCOPE, row, "other", "n")  # x and y share p0: two people together, too few
    assert shown == [{"key": "big", "n": 3, "people": 4}] and hidden == 2
    together = Bucket()
    together.add("q9", n=1)
    shown, hidden = folded({**small, "z": together}, SCOPE, row, "other", "n")  # p0, p1, q9: enough as "other"
    assert shown[-1] == {"key": "other", "n": 8, "people": 3} and hidden == 0


def test_csv_is_excel_friendly_and_defuses_formulas():
    summary = {"tables": {"topics": table("topics", [
        {"competency": "=HYPERLINK(\"http://evil\")", "name": "Café & co, \"quoted\"", "questions": 7,
         "people": 5, "answered": -1},
        {"competency": "+1", "name": "@SUM(A1)", "questions": 5, "people": 5, "answered": None},
        {"competency": "-2", "name": "\tcmd", "questions": 5, "people": 5, "helpful": 0.5}])}}
    text = to_csv(summary, "topics")
    assert text.startswith("\ufeffCompetency id,Competency,Questions,") and "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed[1][:5] == ["'=HYPERLINK(\"http://evil\")", "Café & co, \"quoted\"", "7", "5", "-1"]  # numbers stay
    assert parsed[2][:2] == ["'+1", "'@SUM(A1)"] and parsed[2][4] == ""
    assert parsed[3][:2] == ["'-2", "'\tcmd"]
    assert not to_csv(summary, "topics", bom=False).startswith("\ufeff")
    with pytest.raises(NotFound, match="topics"):
        to_csv(summary, "salaries")
    assert safe_cell(True) == "yes" and safe_cell(3.5) == 3.5 and safe_cell("plain") == "plain"


def summary() -> dict:
    rows = {
        "questions_per_day": [{"day": "2025-03-10", "channel": "dm", "questions": 6, "people": 6},
                              {"day": "2025-03-10", "channel": "thread", "questions": 5, "people": 5}],
        "answers_per_day": [{"day": "2025-03-10", "questions": 11, "answered": 6, "abstained": 5, "helpful": 2,
                             "not_helpful": 1, "unrated": 8, "people": 6}],
        "topics": [{"competency": f"c{n}", "name": f"Topic {n}", "questions": 20 - n, "people": 5} for n in range(12)],
        "lessons_per_week": [{"week": "2025-03-10", "offered": 8, "started": 7, "completed": 6, "people": 8}],
        "quiz_accuracy": [{"week": "2025-03-03", "competency": "feedback", "name": "Feedback", "answers": 5,
                           "correct": 3, "accuracy": 0.6, "people": 5},
                          {"week": "2025-03-10", "competency": "feedback", "name": "Feedback", "answers": 6,
                           "correct": 5, "accuracy": 0.833, "people": 6}],
        "retention": [{"week": "2025-03-10", "reviews": 6, "recalled": 5, "retention": 0.833, "people": 6}],
        "nudges_per_week": [{"week": "2025-03-10", "sent": 10, "acted_on": 9, "acted_on_share": 0.9, "people": 6}],
    }
    return {"tables": {name: table(name, rows.get(name, [])) for name in TABLES}}


def test_every_chart_is_a_titled_described_vega_lite_spec_over_the_summarys_rows():
    report = summary()
    specs = charts.charts(report)
    assert list(specs) == list(charts.BUILDERS)
    for name, spec in specs.items():
        assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json", name
        assert spec["title"] and len(spec["description"]) > 40, name
        assert spec["mark"]["type"] in ("bar", "line") and spec["encoding"], name
        assert spec["usermeta"]["table"] in report["tables"] and spec["usermeta"]["empty"] is False, name
        fields = {e["field"] for e in spec["encoding"].values() if "field" in e}
        for value in spec["data"]["values"]:
            assert fields <= set(value), (name, fields, value)
        json.dumps(spec)
    assert specs["questions_per_day"]["data"]["values"] == report["tables"]["questions_per_day"]["rows"]
    assert specs["retention"]["data"]["values"] == report["tables"]["retention"]["rows"]
    assert [r["name"] for r in specs["top_topics"]["data"]["values"]] == [f"Topic {n}" for n in range(10)]
    assert specs["answered_vs_abstained"]["data"]["values"] == [
        {"day": "2025-03-10", "measure": "Answered", "count": 6},
        {"day": "2025-03-10", "measure": "Abstained", "count": 5}]
    assert [(r["measure"], r["count"]) for r in specs["helpful_vs_not"]["data"]["values"]] == [
        ("Helpful", 2), ("Not helpful", 1), ("Not rated", 8)]
    assert [(r["measure"], r["count"]) for r in specs["nudges"]["data"]["values"]] == [("Sent", 10), ("Acted on", 9)]
    assert specs["quiz_accuracy"]["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert "11 questions on 1 days" in specs["questions_per_day"]["description"]


def test_charts_of_an_empty_report_are_valid_and_marked_empty():
    specs = charts.charts({"tables": {name: table(name, []) for name in TABLES}})
    assert all(spec["data"]["values"] == [] and spec["usermeta"]["empty"] for spec in specs.values())


def test_the_vendored_scripts_and_their_licenses_are_there():
    for script in charts.SCRIPTS:
        assert (charts.VENDOR / script).stat().st_size > 50_000, script
    for name in ("LICENSE-vega", "LICENSE-vega-lite", "LICENSE-vega-embed"):
        assert "Redistribution and use in source and binary forms" in (charts.VENDOR / name).read_text()
    readme = (charts.VENDOR / "README.md").read_text()
    assert all(version in readme for version in ("5.33.1", "5.23.0", "6.29.0"))
