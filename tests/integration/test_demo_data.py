"""`coach demo-data` on real SQLite and PostgreSQL: the simulated history fills every report (engagement and impact,
with true lesson effects the impact report finds), is the same every time, and `--remove` deletes exactly it: real
learners, their questions, lessons, nudges and a real team focus survive. And `coach report impact` through the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from coach import demo_data, engagement
from coach.engagement import impact
from coach.lessons import catalog
from coach.lessons.authoring import load_lessons
from coach.competencies import Framework
from coach.store.db import migrate
from coach.store.models import (Learner, Lesson, LessonAttempt, LessonOffer, Need, NudgeDelivery, ReviewCard,
                                ReviewLogEntry, TeamFocus)
from examples import LESSONS
from kernel.store import make_engine, session

NOW = datetime(2025, 6, 27, 15, tzinfo=UTC)
TABLES = (Learner, Need, LessonOffer, LessonAttempt, ReviewCard, ReviewLogEntry, NudgeDelivery, TeamFocus)


def engine_with_lessons(url: str):
    engine = make_engine(url)
    migrate(engine)
    catalog.save(engine, load_lessons(LESSONS, {c.id for c in Framework.load().competencies})[0])
    return engine


def counts(engine) -> dict[str, int]:
    with session(engine) as db:
        return {table.__tablename__: db.exec(select(func.count()).select_from(table)).one() for table in TABLES}


def real_rows(engine) -> None:
    """A real learner with a question, a quiz answer, a card, an offer and a nudge, and a real focus on Sales."""
    with session(engine) as db:
        db.add_all([Learner(id="slack:T1:UREAL", team="Sales"),
                    Need(id="real-need", learner_id="slack:T1:UREAL", channel="dm", platform="slack",
                         question="mileage?", topics=["expenses"], answered=True, created_at=NOW),
                    LessonOffer(learner_id="slack:T1:UREAL", lesson_key="per-diem-meals", offered_at=NOW),
                    LessonAttempt(learner_id="slack:T1:UREAL", lesson_key="per-diem-meals", chosen=0, correct=True,
                                  at=NOW),
                    ReviewCard(learner_id="slack:T1:UREAL", lesson_key="per-diem-meals", card={}, due=NOW,
                               last_review=NOW),
                    ReviewLogEntry(learner_id="slack:T1:UREAL", lesson_key="per-diem-meals", rating=3,
                                   reviewed_at=NOW),
                    NudgeDelivery(key="sched:slack:T1:UREAL:1", learner_id="slack:T1:UREAL", created_at=NOW),
                    TeamFocus(team="Sales", competencies=["learning-and-development"], set_by="slack:T1:UBOSS")])
        db.commit()


def test_demo_data_fills_the_reports_and_is_removed_exactly(tmp_path, database_url):
    engine = engine_with_lessons(database_url)
    real_rows(engine)
    before = counts(engine)
    assert not demo_data.present(engine)

    written = demo_data.seed(engine, now=NOW)
    assert demo_data.present(engine) and written["learner"] == 60 and written["need"] > 500
    assert written["teamfocus"] == 4  # Sales kept its real focus: demo data never replaces one
    with session(engine) as db:
        teams = dict(db.exec(select(Learner.team, func.count()).where(Learner.id.startswith("demo-"))
                             .group_by(Learner.team)).all())
        dutch = set(db.exec(select(Learner.language).where(Learner.team == "Rotterdam")).all())
        assert db.exec(select(func.count()).select_from(Learner).where(Learner.id.startswith("demo-"),
                                                                       Learner.paused == False)).one() == 0  # noqa
        assert db.get(TeamFocus, "Sales").set_by == "slack:T1:UBOSS"
    assert len(teams) == 5 and min(teams.values()) >= 10 and dutch == {"nl"}
    assert counts(engine)["need"] - before["need"] == written["need"]

    summary = engagement.summary(engine, days=30, now=NOW)
    assert summary["totals"]["questions"] > 100 and summary["totals"]["lessons_completed"] > 5
    assert summary["totals"]["nudges_sent"] > 20 and summary["tables"]["retention"]["rows"]
    found = impact.report(engine, days=90, now=NOW)
    tables = found["tables"]
    effects = {row["lesson"]: row for row in tables["effect_by_lesson"]["rows"]}
    assert any(row["high"] is not None and row["high"] < 0 for row in effects.values())  # a lesson that works
    assert any(row["status"] == "no clear difference" for row in effects.values())
    assert {r["attempt"] for r in tables["attempts_by_lesson"]["rows"]} == {"1st", "2nd", "3rd+"}
    assert tables["retention_by_lesson"]["rows"] and tables["deflection"]["rows"]
    assert {r["team"] for r in tables["alignment"]["rows"]} >= {"Customer Support", "Rotterdam", "Sales"}
    assert found["totals"]["deflected"] > 100

    again = engine_with_lessons(f"sqlite:///{tmp_path / 'again.db'}")
    real_rows(again)
    assert demo_data.seed(again, now=NOW) == written  # a fixed seed: the same history
    assert impact.report(again, days=90, now=NOW)["tables"]["effect_by_lesson"] == tables["effect_by_lesson"]

    demo_data.seed(engine, now=NOW)  # seeding again replaces, never doubles
    assert counts(engine)["need"] - before["need"] == written["need"]
    removed = demo_data.remove(engine)
    assert removed["learner"] == 60 and removed["teamfocus"] == 4
    assert counts(engine) == before and not demo_data.present(engine)
    with session(engine) as db:
        assert db.get(Need, "real-need") and db.get(TeamFocus, "Sales").competencies == ["learning-and-development"]
        assert db.exec(select(func.count()).select_from(Lesson)).one() == 9  # the lessons are content: kept


def test_the_cli_seeds_reports_impact_and_removes(tmp_path, monkeypatch):
    from connectors.cli.main import app

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_LOAD_SAMPLES", "false")
    monkeypatch.setenv("COACH_MINUTES_PER_QUESTION", "6")
    monkeypatch.setenv("COLUMNS", "160")
    runner = CliRunner()
    seeded = runner.invoke(app, ["demo-data"])
    assert seeded.exit_code == 0, seeded.output
    assert "Loaded 9 sample lessons" in seeded.output and "60 learner" in seeded.output

    shown = runner.invoke(app, ["report", "impact"])
    assert shown.exit_code == 0, shown.output
    assert "Effect on questions, per lesson" in shown.output and "95% interval" in shown.output
    assert re.search(r"Time saved, estimate \(hours, at 6 minutes a question\)\s*│\s*[\d.]+ │", shown.output)
    assert "How: Learners who completed it" in shown.output and "demo-" not in shown.output
    plain = runner.invoke(app, ["report", "--days", "30"])  # `coach report` is the engagement report, as before
    assert plain.exit_code == 0 and "Engagement, everyone" in plain.output

    exported = runner.invoke(app, ["report", "impact", "--team", "Rotterdam", "--csv", "alignment"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.output.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Team", "Week of", "Focus competencies"] and {r[0] for r in rows[1:]} == {"Rotterdam"}
    data = json.loads(runner.invoke(app, ["report", "impact", "--json", "--competency", "expenses"]).output)
    assert {r["competency"] for r in data["tables"]["effect_by_competency"]["rows"]} == {"expenses"}
    assert data["period"]["minutes_per_question"] == 6
    refused = runner.invoke(app, ["report", "impact", "--team", "Nobody"])
    assert refused.exit_code == 2 and "fewer than 5 people" in refused.stderr
    unknown = runner.invoke(app, ["report", "impact", "--csv", "salaries"])
    assert unknown.exit_code == 2 and "effect_by_lesson" in unknown.stderr

    removed = runner.invoke(app, ["demo-data", "--remove"])
    assert removed.exit_code == 0 and "60 learner" in removed.output
    assert "there was none" in runner.invoke(app, ["demo-data", "--remove"]).output


def test_demo_data_never_becomes_a_learning_record(tmp_path, embedder):
    """With an LRS configured, the capture records real rows as statements (the control) but not one demo row."""
    from coach.bootstrap import bootstrap
    from coach.store.models import XapiStatement
    from tests.conftest import make_settings

    container = bootstrap(make_settings(tmp_path, XAPI_ENDPOINT="http://127.0.0.1:9/xAPI/"), embedder=embedder)
    engine = container.engine
    catalog.save(engine, load_lessons(LESSONS, {c.id for c in container.coach.framework.competencies})[0])

    def statements() -> int:
        with session(engine) as db:
            return db.exec(select(func.count()).select_from(XapiStatement)).one()

    written = demo_data.seed(engine)
    assert written["need"] > 500 and written["lessonattempt"] > 100 and statements() == 0
    with session(engine) as db:
        db.add_all([Learner(id="slack:T1:UREAL", team="Sales"),
                    Need(id="real-need", learner_id="slack:T1:UREAL", channel="dm", platform="slack",
                         question="mileage?", topics=["expenses"], answered=True, created_at=NOW)])
        db.commit()
    assert statements() > 0  # the capture is on: the real question was recorded
    recorded = statements()
    demo_data.remove(engine)
    assert statements() == recorded
