"""The Reports area's Impact page over HTTP, through the real app on demo data: the four parts with a chart, the text
saying how it was computed and a table each, the demo-data notice on both report pages (gone once removed), CSV
exports, the bearer-token API, and the engagement page's rules for who sees which team (a manager only their own,
a small team refused)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from coach import accounts, demo_data
from coach.bootstrap import bootstrap
from coach.lessons import catalog
from coach.lessons.authoring import load_lessons
from coach.store.models import Learner
from connectors.admin import impact_charts
from connectors.admin.reports import CHART_SCRIPTS
from examples import LESSONS
from kernel.store import session
from tests.conftest import make_settings
from tests.integration.admin_helpers import PASSWORD, browser, signed_in

BANNER = "Demo data:"


def seeded(container) -> None:
    ids = {c.id for c in container.coach.framework.competencies}
    catalog.save(container.engine, load_lessons(LESSONS, ids)[0])
    demo_data.seed(container.engine)


@pytest.fixture
def container(tmp_path, embedder):
    built = bootstrap(make_settings(tmp_path, COACH_MINUTES_PER_QUESTION="8"), embedder=embedder)
    for email, role, teams in (("lea@example.com", "ld-admin", []), ("max@example.com", "manager", ["Rotterdam"])):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, teams=teams, actor="test")
    seeded(built)
    with session(built.engine) as db:  # a real team too small to report on
        db.add_all([Learner(id="slack:T1:U1", team="Tiny"), Learner(id="slack:T1:U2", team="Tiny")])
        db.commit()
    return built


def report_of(container, **filters):
    from coach.services.reports import impact

    names = {c.id: c.name for c in container.coach.framework.competencies}
    return impact(container.engine, container.settings, days=filters.get("days", 90), team=filters.get("team"),
                  competency=filters.get("competency"), names=names)


def test_the_impact_page_shows_the_four_parts_with_charts_methods_and_tables(container):
    client = signed_in(container)
    page = client.get("/admin/reports/impact")
    assert page.status_code == 200
    html = page.text
    assert BANNER in html and "coach demo-data --remove" in html
    assert '<a href="/admin/reports/impact" aria-current="page">Impact</a>' in html
    for heading in ("Effect on questions", "Quiz accuracy and retention", "Questions deflected and time saved "
                    "(estimate)", "Alignment with team focus"):
        assert f">{heading}</h2>" in html
    report = report_of(container)
    specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html,
                                 re.S).group(1))
    assert set(specs["specs"]) == set(impact_charts.BUILDERS)  # tojson sorts the keys
    assert re.findall(r'data-chart="([a-z_]+)"', html) == list(impact_charts.BUILDERS)  # in page order
    assert re.findall(r'<script src="/admin/static/vendor/([^"]+)"', html) == list(CHART_SCRIPTS)
    shown = [r for r in report["tables"]["effect_by_lesson"]["rows"] if r["difference"] is not None]
    assert specs["specs"]["effect_by_lesson"]["data"]["values"] == shown and shown
    method = html[html.index('id="effect_by_lesson-method"'):]
    assert "How it was computed:" in method[:2000] and "95% bootstrap interval" in method[:2000]
    assert "not enough matched learners" in html
    assert "8 minutes per question" in html  # the deflection estimate says its assumption
    assert re.search(r"<dt>Time saved, estimate \(hours, at 8 minutes a question\)</dt><dd>[\d.,]+</dd>", html)
    assert '/admin/reports/impact/alignment.csv?days=90&amp;team=&amp;competency=' in html
    assert "demo-" not in html.replace("demo-banner", "").replace("demo-data", "")  # no person's id

    engagement = client.get("/admin/reports")
    assert engagement.status_code == 200 and BANNER in engagement.text
    assert '<a href="/admin/reports" aria-current="page">Engagement</a>' in engagement.text
    demo_data.remove(container.engine)
    assert BANNER not in client.get("/admin/reports").text
    assert BANNER not in client.get("/admin/reports/impact").text


def test_csv_and_the_api_give_the_same_numbers(container):
    client = signed_in(container)
    exported = client.get("/admin/reports/impact/effect_by_competency.csv?days=90")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="coach-impact-effect_by_competency-' in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Competency id", "Competency", "Result"]
    expected = report_of(container)["tables"]["effect_by_competency"]["rows"]
    assert [row[0] for row in rows[1:]] == [row["competency"] for row in expected]
    assert client.get("/admin/reports/impact/salaries.csv").status_code == 404
    assert any(e.target == "impact/effect_by_competency"
               for e in accounts.latest_audit(container.engine, action="report-exported"))

    _, secret = accounts.create_token(container.engine, role="viewer", actor="test")
    api = browser(container).get("/api/admin/reports/impact?days=90&team=Rotterdam",
                                 headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert api.json()["tables"]["alignment"] == report_of(container, team="Rotterdam")["tables"]["alignment"]
    assert {r["team"] for r in api.json()["tables"]["alignment"]["rows"]} == {"Rotterdam"}
    assert browser(container).get("/api/admin/reports/impact").status_code == 401


def test_a_manager_sees_only_their_team_and_a_small_team_is_refused(container):
    client = signed_in(container, "max@example.com")
    own = client.get("/admin/reports/impact")
    assert own.status_code == 200 and "team Rotterdam" in own.text
    other = client.get("/admin/reports/impact?team=Sales")
    assert other.status_code == 403 and "data-chart" not in other.text
    assert client.get("/admin/reports/impact/deflection.csv?team=").status_code == 403
    admin = signed_in(container)
    tiny = admin.get("/admin/reports/impact?team=Tiny")
    assert tiny.status_code == 403 and "Tiny has fewer than 5 people" in tiny.text
    assert admin.get("/admin/reports/impact?competency=salaries").status_code == 422
