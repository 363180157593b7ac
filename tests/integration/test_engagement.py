"""L&D's engagement report on real SQLite and PostgreSQL: the counts, the privacy threshold (small teams refused,
small rows hidden, nothing individual in the output), the filters, the CLI, and a chart drawn in real Chromium
with the vendored scripts."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from coach import engagement
from kernel.errors import Forbidden
from kernel.store import make_engine, session
from coach.store.db import migrate
from coach.store.models import (Learner, Lesson, LessonAttempt, LessonOffer, Need, NudgeDelivery, NudgeSchedule,
                                ReviewLogEntry)
from connectors.admin import charts

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # a Friday; the busy week starts Monday 10 March
SUPPORT = [f"support-person-{n}" for n in range(6)]
SALES = [f"sales-person-{n}" for n in range(5)]
TINY = ["tiny-person-0", "tiny-person-1"]
SECRET = "secret question about my divorce"


def populate(engine, now: datetime = NOW) -> None:
    """Two teams big enough to report on and one too small, over two weeks (see the expected numbers below)."""
    base = now - timedelta(days=4)  # Monday 12:00 for NOW
    h = lambda hours: base + timedelta(hours=hours)  # noqa: E731
    rows: list = [Learner(id=i, team="Support") for i in SUPPORT] + [Learner(id=i, team="Sales") for i in SALES]
    rows += [Learner(id=i, team="Tiny") for i in TINY]
    rows += [Lesson(key="fb-1", title="Feedback", body="b", question="q", competencies=["feedback"]),
             Lesson(key="exp-1", title="Expenses", body="b", question="q", competencies=["expenses"])]
    need = lambda who, channel, topics, answered, at, feedback=None, feedback_at=None: Need(  # noqa: E731
        id=os.urandom(8).hex(), learner_id=who, channel=channel, platform="slack", question=SECRET, topics=topics,
        answered=answered, created_at=at, feedback=feedback, feedback_at=feedback_at)
    rating = {0: "helpful", 1: "helpful", 2: "not_helpful"}
    rows += [need(p, "dm", ["expenses"], True, h(-4), rating.get(n), h(-3.25) if n in rating else None)
             for n, p in enumerate(SUPPORT)]
    rows += [need(p, "thread", ["feedback"], False, h(-3.5)) for p in SUPPORT[:5]]
    rows += [need(TINY[0], "web", ["expenses"], True, h(-1))]
    rows += [need(p, "channel", ["information-security"], True, h(24)) for p in SALES[:2]]
    rows += [need(p, "dm", ["coaching"] if n == 0 else [], True, h(47)) for n, p in enumerate(SALES)]
    rows += [need(SUPPORT[0], "dm", ["expenses"], True, now - timedelta(days=40))]  # before the period
    # lessons: a manager's nudge sends fb-1 to Support; five start it, three get it right first time
    rows += [LessonOffer(learner_id=p, lesson_key="fb-1", reason="nudge: boss", offered_at=h(-3),
                         started_at=h(-2) if n < 5 else None) for n, p in enumerate(SUPPORT)]
    rows += [LessonOffer(learner_id=p, lesson_key="exp-1", reason="asked for it", offered_at=h(25), started_at=h(25))
             for p in SALES[:2]]
    rows += [LessonOffer(learner_id=SALES[2], lesson_key="exp-1", reason="suggested", offered_at=h(-6 * 24))]
    answers = [(p, "fb-1", n < 3, h(-1.5)) for n, p in enumerate(SUPPORT[:5])]
    answers += [(SALES[0], "exp-1", True, h(25.5)), (SALES[1], "exp-1", False, h(25.5))]
    answers += [(SUPPORT[5], "fb-1", True, now - timedelta(days=22))]  # first answer before the period ...
    answers += [(SUPPORT[5], "fb-1", True, h(22))]  # ... so this is a review, 25 hours after the nudge
    answers += [(p, "fb-1", n < 4, h(70)) for n, p in enumerate(SUPPORT[:5])]  # reviews on Thursday
    for who, key, right, at in answers:
        rows += [LessonAttempt(learner_id=who, lesson_key=key, chosen=0 if right else 1, correct=right, at=at),
                 ReviewLogEntry(learner_id=who, lesson_key=key, rating=3 if right else 1, reviewed_at=at)]
    # nudges: the schedule's lesson to Support, a failed and a skipped one to Sales, review digests, a channel post
    rows += [NudgeSchedule(id="sched1", owner="boss", team="Support", lesson_key="fb-1"),
             NudgeSchedule(id="sched2", owner="boss", channel="slack:T1:C1", message="Hello all")]
    delivery = lambda key, who, kind, state, at: NudgeDelivery(  # noqa: E731
        key=key, learner_id=who, kind=kind, state=state, created_at=at, updated_at=at)
    rows += [delivery(f"sched1:{p}:{h(-3).isoformat()}", p, "nudge", "sent", h(-3)) for p in SUPPORT]
    rows += [delivery(f"sched1:{SALES[0]}:x", SALES[0], "nudge", "failed", h(-3)),
             delivery(f"reviews:{SALES[1]}:x", SALES[1], "review", "skipped", h(68)),
             delivery(f"sched2:slack:T1:C1:{h(-3).isoformat()}", "slack:T1:C1", "nudge", "sent", h(-3))]
    rows += [delivery(f"reviews:{p}:x", p, "review", "sent", h(68)) for p in SUPPORT[:4]]
    with session(engine) as db:
        db.add_all(rows)
        db.commit()


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    populate(engine)
    yield engine
    engine.dispose()


def rows(report: dict, table: str) -> list[dict]:
    return report["tables"][table]["rows"]


def test_counts_for_everyone(engine):
    report = engagement.summary(engine, days=14, now=NOW, names={"feedback": "Giving feedback"})
    assert rows(report, "questions_per_day") == [
        {"day": "2025-03-10", "channel": "dm", "questions": 6, "people": 6},
        {"day": "2025-03-10", "channel": "thread", "questions": 5, "people": 5},
        {"day": "2025-03-12", "channel": "dm", "questions": 5, "people": 5}]
    assert report["tables"]["questions_per_day"]["hidden_rows"] == 2  # the one web question, Tuesday's two
    assert rows(report, "answers_per_day") == [
        {"day": "2025-03-10", "questions": 12, "answered": 7, "abstained": 5, "helpful": 2, "not_helpful": 1,
         "unrated": 9, "people": 7},
        {"day": "2025-03-12", "questions": 5, "answered": 5, "abstained": 0, "helpful": 0, "not_helpful": 0,
         "unrated": 5, "people": 5}]
    assert [(r["competency"], r["name"], r["questions"], r["people"]) for r in rows(report, "topics")] == [
        ("expenses", "expenses", 7, 7), ("feedback", "Giving feedback", 5, 5), ("(other)", "other topics", 5, 5)]
    assert report["tables"]["topics"]["hidden_rows"] == 0  # coaching (1) and untagged (4): five people together
    # Tuesday's security questions (two people) are in no table: not even as a topic
    assert rows(report, "lessons_per_week") == [
        {"week": "2025-03-10", "offered": 8, "started": 7, "completed": 7, "people": 8}]
    assert report["tables"]["lessons_per_week"]["hidden_rows"] == 1  # the week one person was offered a lesson
    assert rows(report, "competencies") == [
        {"competency": "feedback", "name": "Giving feedback", "offered": 6, "started": 5, "completed": 5,
         "correct": 3, "accuracy": 0.6, "people": 6}]
    assert rows(report, "quiz_accuracy") == [
        {"week": "2025-03-10", "competency": "feedback", "name": "Giving feedback", "answers": 5, "correct": 3,
         "accuracy": 0.6, "people": 5}]
    assert rows(report, "retention") == [
        {"week": "2025-03-10", "reviews": 6, "recalled": 5, "retention": 0.833, "people": 6}]
    assert rows(report, "nudges_per_week") == [
        {"week": "2025-03-10", "sent": 10, "acted_on": 9, "acted_on_share": 0.9, "people": 6}]
    assert [(r["kind"], r["sent"], r["acted_on"], r["failed"], r["skipped"], r["people"])
            for r in rows(report, "nudges_by_kind")] == [("nudge", 6, 5, 1, 0, 7), ("review", 4, 4, 0, 1, 5)]
    assert report["totals"] == {  # what the rows shown add up to: Tuesday's two questions are not in them
        "questions": 17, "askers": 12, "answered": 12, "abstained": 5, "helpful": 2, "not_helpful": 1,
        "unrated": 14, "lessons_offered": 8, "lessons_started": 7, "lessons_completed": 7, "quiz_accuracy": 0.571,
        "reviews": 6, "retention": 0.833, "learners": 8, "nudges_sent": 10, "nudges_acted_on": 9,
        "people_nudged": 6, "channel_posts": 1}
    assert rows(report, "totals")[0] == {"measure": "Questions asked", "value": 17}
    assert report["period"] == {"days": 14, "since": "2025-02-28T12:00:00+00:00",
                                "until": "2025-03-14T12:00:00+00:00", "time_zone": "UTC", "team": [],
                                "competency": None, "min_group": 5}
    json.dumps(report)  # ready to serve as it is


def test_nothing_individual_leaves_the_report(engine):
    text = json.dumps([engagement.summary(engine, days=14, now=NOW, **f) for f in
                       ({}, {"team": "Support"}, {"team": "Sales"}, {"competency": "feedback"})])
    assert "secret" not in text and "divorce" not in text
    for person in SUPPORT + SALES + TINY + ["boss", "slack:T1:C1"]:
        assert person not in text


def test_teams_smaller_than_the_threshold_are_refused(engine):
    with pytest.raises(Forbidden, match="Tiny has fewer than 5 people"):
        engagement.summary(engine, team="Tiny", now=NOW)
    with pytest.raises(Forbidden, match="Tiny"):  # not hidden inside a bigger union either
        engagement.summary(engine, team=["Support", "Tiny"], now=NOW)
    with pytest.raises(Forbidden):
        engagement.summary(engine, team="Nobody", now=NOW)
    assert engagement.summary(engine, team="Tiny", min_group=2, days=14, now=NOW)["totals"] == {}  # nothing asked
    with pytest.raises(ValueError):
        engagement.summary(engine, days=0, now=NOW)


def test_team_filter(engine):
    support = engagement.summary(engine, days=14, team="Support", now=NOW)
    assert [(r["day"], r["channel"], r["questions"]) for r in rows(support, "questions_per_day")] == [
        ("2025-03-10", "dm", 6), ("2025-03-10", "thread", 5)]
    assert rows(support, "answers_per_day") == [
        {"day": "2025-03-10", "questions": 11, "answered": 6, "abstained": 5, "helpful": 2, "not_helpful": 1,
         "unrated": 8, "people": 6}]
    assert [(r["competency"], r["questions"]) for r in rows(support, "topics")] == [("expenses", 6), ("feedback", 5)]
    assert rows(support, "lessons_per_week") == [
        {"week": "2025-03-10", "offered": 6, "started": 5, "completed": 5, "people": 6}]
    assert rows(support, "nudges_by_kind") == [
        {"kind": "nudge", "label": "a manager's scheduled nudge", "sent": 6, "acted_on": 5, "failed": 0,
         "skipped": 0, "people": 6}]
    assert support["tables"]["nudges_by_kind"]["hidden_rows"] == 1  # four review digests: too few people
    assert "channel_posts" not in support["totals"] and support["period"]["team"] == ["Support"]

    sales = engagement.summary(engine, days=14, team="Sales", now=NOW)
    assert [r["day"] for r in rows(sales, "answers_per_day")] == ["2025-03-12"]
    assert rows(sales, "nudges_per_week") == [] and rows(sales, "nudges_by_kind") == []
    assert sales["tables"]["nudges_by_kind"]["hidden_rows"] == 0  # no week with five people nudged: nothing to hide
    assert "nudges_sent" not in sales["totals"] and sales["totals"]["questions"] == 5


def test_competency_and_period_filters(engine):
    feedback = engagement.summary(engine, days=14, competency="feedback", now=NOW)
    assert [(r["channel"], r["questions"]) for r in rows(feedback, "questions_per_day")] == [("thread", 5)]
    assert [r["competency"] for r in rows(feedback, "topics")] == ["feedback"]
    assert [r["competency"] for r in rows(feedback, "quiz_accuracy")] == ["feedback"]
    assert rows(feedback, "lessons_per_week")[0]["offered"] == 6
    assert [(r["kind"], r["sent"], r["failed"]) for r in rows(feedback, "nudges_by_kind")] == [("nudge", 6, 1)]
    assert feedback["totals"]["reviews"] == 6 and "channel_posts" not in feedback["totals"]
    expenses = engagement.summary(engine, days=14, competency="expenses", now=NOW)
    assert rows(expenses, "competencies") == [] and rows(expenses, "quiz_accuracy") == []  # three learners only
    assert rows(expenses, "nudges_by_kind") == []

    last_two_days = engagement.summary(engine, days=2, now=NOW)  # from Wednesday noon: the Thursday reviews
    assert rows(last_two_days, "questions_per_day") == [] and rows(last_two_days, "lessons_per_week") == []
    assert rows(last_two_days, "retention") == [
        {"week": "2025-03-10", "reviews": 5, "recalled": 4, "retention": 0.8, "people": 5}]

    lenient = engagement.summary(engine, days=14, now=NOW, min_group=2)
    assert ("2025-03-11", "channel", 2) in [(r["day"], r["channel"], r["questions"])
                                            for r in rows(lenient, "questions_per_day")]


def test_csv_export_of_a_real_report(engine):
    report = engagement.summary(engine, days=14, now=NOW)
    text = engagement.to_csv(report, "answers_per_day")
    assert text.startswith("\ufeffDay,Questions,Answered,Abstained,")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed[1] == ["2025-03-10", "12", "7", "5", "2", "1", "9", "7"] and len(parsed) == 3


def test_chart_specs_carry_the_reports_numbers(engine):
    report = engagement.summary(engine, days=14, now=NOW)
    specs = charts.charts(report)
    assert specs["retention"]["data"]["values"] == rows(report, "retention")
    stacked = specs["answered_vs_abstained"]["data"]["values"]
    assert {"day": "2025-03-10", "measure": "Abstained", "count": 5} in stacked
    assert "sent (10)" in specs["nudges"]["description"] and "(9)" in specs["nudges"]["description"]


def test_coach_report_command(tmp_path, monkeypatch):
    from connectors.cli.main import app

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_LOAD_SAMPLES", "false")
    database = tmp_path / "data" / "report.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    # yesterday noon, as NOW is a noon: the rows fall on the same UTC days whatever the hour the test runs at
    populate(engine, (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0))
    runner = CliRunner()
    shown = runner.invoke(app, ["report", "--days", "14"])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"Questions asked\s*│\s*17 │", shown.output) and "secret" not in shown.output
    exported = runner.invoke(app, ["report", "--days", "14", "--team", "Support", "--csv", "topics"])
    assert exported.exit_code == 0, exported.output
    assert [row[:3] for row in csv.reader(io.StringIO(exported.output.removeprefix("\ufeff")))][1:] == [
        ["expenses", "Expenses and travel", "6"], ["feedback", "Giving and receiving feedback", "5"]]
    refused = runner.invoke(app, ["report", "--team", "Tiny"])
    assert refused.exit_code == 2 and "fewer than 5 people" in refused.stderr
    unknown = runner.invoke(app, ["report", "--csv", "salaries"])
    assert unknown.exit_code == 2 and "questions_per_day" in unknown.stderr


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>charts</title>
<script src="vendor/vega.min.js"></script><script src="vendor/vega-lite.min.js"></script>
<script src="vendor/vega-embed.min.js"></script></head><body style="width: 700px">
<script>
const specs = SPECS, options = OPTIONS;
window.drawn = Promise.all(Object.entries(specs).map(([name, spec]) => {
  const element = document.createElement("div");
  element.id = name;
  element.style.width = "100%";
  document.body.append(element);
  return vegaEmbed(element, spec, {...options, logLevel: vega.Warn}).then(() => name);
}));
</script></body></html>"""


def test_the_vendored_scripts_draw_every_chart_in_chromium(tmp_path, chromium):
    """Every spec compiles without a warning and draws data marks in a real browser, from the project's own copies
    of Vega, Vega-Lite and vega-embed served on loopback (nothing from the network)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    populate(engine)
    specs = charts.charts(engagement.summary(engine, days=14, now=NOW))
    site = tmp_path / "site"
    shutil.copytree(charts.VENDOR, site / "vendor")
    (site / "index.html").write_text(PAGE.replace("SPECS", json.dumps(specs)).replace(
        "OPTIONS", json.dumps(charts.EMBED_OPTIONS)), encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietFiles, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    problems: list[str] = []
    try:
        page = chromium.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type in ("warning", "error") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())  # no network
        page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
        assert sorted(page.evaluate("window.drawn")) == sorted(specs)
        bars = page.locator("#questions_per_day svg g.mark-rect.role-mark path")
        assert bars.count() == len(rows_of(specs["questions_per_day"]))  # one bar segment per row
        assert page.locator("#top_topics svg g.mark-rect.role-mark path").count() == 3
        assert page.locator("#quiz_accuracy svg g.mark-symbol.role-mark path").count() == 1
        assert page.locator("#nudges svg g.mark-rect.role-mark path").count() == 2  # sent and acted on, one week
        label = page.locator("#retention").get_attribute("aria-label")  # the description, for screen readers
        assert label == specs["retention"]["description"]
        assert float(page.locator("#retention svg").get_attribute("width")) > 600  # fits its container
        assert page.locator("#questions_per_day [aria-label*='Questions: 6; Channel: dm']").count() == 1
        page.screenshot(path=str(tmp_path / "charts.png"), full_page=True)
    finally:
        server.shutdown()
    assert not [p for p in problems if "favicon" not in p], problems


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def rows_of(spec: dict) -> list[dict]:
    return spec["data"]["values"]
