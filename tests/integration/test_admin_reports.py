"""The web admin's Reports area over HTTP, through the real app on SQLite and PostgreSQL: the page (filters, charts
with their tables, hidden rows), CSV exports (attachment, formula cells defused), the bearer-token API, and who may
see which team (a manager only their own: another team or every team is 403 and shows nothing)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from coach import accounts, engagement
from coach.bootstrap import bootstrap
from connectors.admin import charts
from connectors.admin.reports import CHART_SCRIPTS
from tests.conftest import make_settings
from tests.integration.admin_helpers import PASSWORD, browser, signed_in
from tests.integration.test_engagement import SALES, SECRET, SUPPORT, TINY, populate

FORMULA = '=HYPERLINK("https://evil.example/","Feedback")'
FRAMEWORK = f"""competencies:
  - id: expenses
    name: Expenses and travel
    keywords: [expense, mileage]
  - id: feedback
    name: '{FORMULA}'
    keywords: [feedback]
  - id: information-security
    name: +Information security
    keywords: [phishing]
"""


def anchor() -> datetime:
    """Yesterday noon (UTC): the report's days then split as in test_engagement.py, whatever the time now."""
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time(12), tzinfo=UTC)


@pytest.fixture
def container(tmp_path, embedder, database_url):
    """The engagement data of test_engagement.py (Support: 6 people, Sales: 5, Tiny: 2), a framework whose names a
    spreadsheet would take for formulas, and accounts: an admin, a viewer, Support's manager, an unlinked manager."""
    framework = tmp_path / "competencies.yaml"
    framework.write_text(FRAMEWORK)
    built = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url, COACH_COMPETENCIES_FILE=str(framework)),
                      embedder=embedder)
    for email, role, teams in (("lea@example.com", "ld-admin", []), ("vic@example.com", "viewer", []),
                               ("max@example.com", "manager", ["Support"]), ("nat@example.com", "manager", [])):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, teams=teams, actor="test")
    populate(built.engine, anchor())
    return built



def token(container, role: str, account_email: str = "") -> dict:
    _, secret = accounts.create_token(container.engine, role=role, account_email=account_email, actor="test")
    return {"Authorization": f"Bearer {secret}"}


def expected(container, **filters) -> dict:
    names = {c.id: c.name for c in container.coach.framework.competencies}
    return engagement.summary(container.engine, min_group=5, names=names, **filters)


def audited(container, action: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.target, e.detail) for e in accounts.latest_audit(container.engine, action=action)]


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_without_a_session_or_token_nothing_is_shown(container):
    client = browser(container)
    for path in ("/admin/reports", "/admin/reports?days=7&team=Sales", "/admin/reports/topics.csv"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login?next=/admin/reports")
    for path in ("/api/admin/reports/summary?days=30", "/api/admin/reports/topics.csv"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer coach_made-up"}).status_code == 401


@pytest.mark.postgres
def test_the_page_draws_every_chart_over_its_table(container):
    page = signed_in(container, "lea@example.com").get("/admin/reports?days=14")
    assert page.status_code == 200
    html = page.text
    report = expected(container, days=14)
    assert re.findall(r'data-chart="([a-z_]+)"', html) == [name for name, spec in charts.charts(report).items()
                                                           if not spec["usermeta"]["empty"]]
    assert "questions_per_day" in re.findall(r'data-chart="([a-z_]+)"', html)
    scripts = re.findall(r'<script src="/admin/static/vendor/([a-z.-]+)" defer>', html)
    assert scripts == list(CHART_SCRIPTS) and scripts[-1] == "vega-interpreter.min.js"
    specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S)
                       .group(1))
    assert specs["specs"]["answered_vs_abstained"]["data"]["values"] == \
        charts.charts(report)["answered_vs_abstained"]["data"]["values"]
    assert specs["options"] == charts.EMBED_OPTIONS

    section = html[html.index('id="answers_per_day"'):html.index('id="topics"')]
    assert section.index('data-chart="answered_vs_abstained"') < section.index('data-chart="helpful_vs_not"') \
        < section.index("<table")  # both charts of the table, then the table under them
    assert '<caption id="answers_per_day-caption">Answered and rated per day:' in section
    assert '<th scope="col" class="number">Abstained</th>' in section
    monday = (anchor() - timedelta(days=4)).date().isoformat()
    assert re.search(rf'<th scope="row">{monday}</th><td class="number">12</td><td class="number">7</td>'
                     r'<td class="number">5</td>', section)
    assert "2 rows hidden: fewer than 5 people." in html[html.index('id="questions_per_day"'):]
    assert '<dt>Questions asked</dt><dd>17</dd>' in html and "Quiz accuracy" in html
    assert '/admin/reports/topics.csv?days=14&amp;team=&amp;competency=' in html
    assert FORMULA not in html and "=HYPERLINK(&#34;https://evil.example/&#34;" in html  # names are escaped
    assert SECRET not in html and not any(person in html for person in SUPPORT + SALES + TINY)


def test_filters_period_team_and_competency(container):
    client = signed_in(container, "vic@example.com")  # a viewer sees every team
    page = client.get("/admin/reports?days=30&custom=14&team=Support&competency=feedback")
    assert page.status_code == 200
    assert '<option value="14" selected>Last 14 days</option>' in page.text
    assert '<option value="Support" selected>Support</option>' in page.text
    assert '<option value="Tiny"' not in page.text  # too small to report on: not offered
    assert '<option value="feedback" selected>' in page.text
    report = expected(container, days=14, team="Support", competency="feedback")
    assert f"<dt>Questions asked</dt><dd>{report['totals']['questions']}</dd>" in page.text
    assert report["totals"]["questions"] == 5  # Support's five questions about feedback

    for query, message in (("custom=0", "The period must be a whole number of days from 1 to 366, not 0."),
                           ("days=367", "not 367"), ("custom=soon", "not “soon”"),
                           ("competency=salaries", "There is no competency “salaries” in the framework")):
        refused = client.get(f"/admin/reports?{query}")
        assert refused.status_code == 422 and message in refused.text, query
        assert "data-chart" not in refused.text and 'id="report-error"' in refused.text

    tiny = client.get("/admin/reports?team=Tiny")
    assert tiny.status_code == 403 and "Tiny has fewer than 5 people" in tiny.text and "data-chart" not in tiny.text


@pytest.mark.postgres
def test_a_manager_sees_their_own_team_only(container):
    client = signed_in(container, "max@example.com")
    own = client.get("/admin/reports?days=14")
    assert own.status_code == 200 and "every team" not in own.text
    assert re.findall(r'<option value="([^"]*)"', own.text.split('id="team"')[1].split("</select>")[0]) == ["Support"]
    support = expected(container, days=14, team="Support")
    assert f"<dt>Questions asked</dt><dd>{support['totals']['questions']}</dd>" in own.text
    assert support["totals"]["questions"] == 11

    for query in ("team=Sales", "team=", "team=Tiny"):
        refused = client.get(f"/admin/reports?days=14&{query}")
        assert refused.status_code == 403, query
        assert "You may see the reports of your own team only (Support)" in refused.text
        assert "data-chart" not in refused.text and "At a glance" not in refused.text
    assert client.get("/admin/reports/topics.csv?team=Sales").status_code == 403
    assert client.get("/admin/reports/topics.csv").status_code == 200  # their own team by default
    denied = audited(container, "access-denied")
    assert len(denied) == 4 and {actor for actor, _, _ in denied} == {"max@example.com"}
    assert ("max@example.com", "/admin/reports", "You may see the reports of your own team only (Support), not of "
            "team Sales.") in denied

    unlinked = signed_in(container, "nat@example.com").get("/admin/reports")
    assert unlinked.status_code == 403 and "No team is linked to your account yet" in unlinked.text
    assert "coach users set-role nat@example.com manager --team TEAM" in unlinked.text


def test_csv_exports_are_attachments_with_formulas_defused(container):
    client = signed_in(container, "lea@example.com")
    answer = client.get("/admin/reports/topics.csv?days=14&team=Support")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    until = datetime.now(UTC).date().isoformat()
    since = (datetime.now(UTC) - timedelta(days=14)).date().isoformat()
    assert answer.headers["content-disposition"] == f'attachment; filename="coach-topics-{since}-to-{until}.csv"'
    rows = rows_of(answer.content.decode("utf-8"))
    assert rows[0][:4] == ["Competency id", "Competency", "Questions", "People"]
    assert [row[:3] for row in rows[1:]] == [["expenses", "Expenses and travel", "6"], ["feedback", "'" + FORMULA, "5"]]

    totals = rows_of(client.get("/admin/reports/totals.csv?days=14").text)
    assert totals[0] == ["Measure", "Value"] and ["Questions asked", "17"] in totals
    assert client.get("/admin/reports/salaries.csv").status_code == 404
    assert client.get("/admin/reports/topics.csv?days=0").status_code == 422
    assert audited(container, "report-exported")[-1] == (
        "lea@example.com", "topics", "14 days, team Support, competency any")


@pytest.mark.postgres
def test_the_api_serves_the_summary_with_the_same_rules(container):
    api = browser(container)
    admin, viewer = token(container, "ld-admin"), token(container, "viewer")
    manager = token(container, "manager", account_email="max@example.com")

    answer = api.get("/api/admin/reports/summary?days=14", headers=admin)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    report = expected(container, days=14)
    assert body["tables"] == report["tables"] and body["totals"] == report["totals"]
    assert body["period"]["days"] == 14 and body["period"]["team"] == [] and body["period"]["min_group"] == 5
    assert SECRET not in answer.text and not any(person in answer.text for person in SUPPORT + SALES + TINY)

    sales = api.get("/api/admin/reports/summary?days=14&team=Sales", headers=viewer)
    assert sales.status_code == 200 and sales.json()["period"]["team"] == ["Sales"]
    assert sales.json()["totals"]["questions"] == 5

    own = api.get("/api/admin/reports/summary?days=14&team=Support&competency=expenses", headers=manager)
    assert own.status_code == 200 and own.json()["totals"] == expected(container, days=14, team="Support",
                                                                       competency="expenses")["totals"]
    for query in ("days=14", "days=14&team=Sales", "days=14&team=Tiny"):
        refused = api.get(f"/api/admin/reports/summary?{query}", headers=manager)
        assert refused.status_code == 403 and "your own team only (Support)" in refused.json()["detail"], query
        assert "tables" not in refused.text
    assert api.get("/api/admin/reports/summary?team=Tiny", headers=admin).status_code == 403

    for query, message in (("days=0", "from 1 to 366, not 0"), ("days=367", "not 367"),
                           ("competency=salaries", "no competency")):
        refused = api.get(f"/api/admin/reports/summary?{query}", headers=admin)
        assert refused.status_code == 422 and message in refused.json()["detail"], query
    assert api.get("/api/admin/reports/summary?days=week", headers=admin).status_code == 422

    exported = api.get("/api/admin/reports/answers_per_day.csv?days=14&team=Support", headers=manager)
    assert exported.status_code == 200 and exported.headers["content-disposition"].startswith(
        'attachment; filename="coach-answers_per_day-')
    assert rows_of(exported.text)[0][:4] == ["Day", "Questions", "Answered", "Abstained"]
    assert api.get("/api/admin/reports/answers_per_day.csv?team=Sales", headers=manager).status_code == 403
    assert api.get("/api/admin/reports/salaries.csv", headers=admin).status_code == 404
    assert audited(container, "report-exported")[0][1] == "answers_per_day"
    assert audited(container, "report-exported")[0][0].startswith("token:")
