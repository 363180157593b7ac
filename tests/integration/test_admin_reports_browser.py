"""The Reports and Content gaps pages in a real headless browser (Chromium through Playwright, see
test_admin_browser.py): the charts are drawn in the page by the vendored scripts under the admin's strict
Content-Security-Policy (no eval, no inline script or style), nothing is fetched from anywhere else, and a manager
sees only their team's reports and cannot open the gaps page."""

from __future__ import annotations

import re

from coach import accounts
from coach.messages import IncomingMessage
from tests.integration.test_admin_browser import admin_server, sign_in_as, signed_in  # noqa: F401 (fixtures)
from tests.integration.test_admin_reports import anchor
from tests.integration.test_engagement import SECRET, populate

MARKS = "svg g.role-mark path"  # the data marks Vega draws (bars, points), not axes or legends


def watch(page, server_url: str) -> list[str]:
    """Everything that goes wrong in the page: script errors, console errors and warnings (a CSP violation is one),
    a script, style or data request that fails (pages refused on purpose are asserted by the tests), and any request
    that leaves the app."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource")
            else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            and not response.url.endswith("/favicon.ico") else None)
    page.on("request", lambda request: problems.append(f"left the app: {request.url}")
            if not request.url.startswith(server_url) else None)
    return problems


def drawn(page, chart_id: str):
    """The chart's element once Vega has drawn it (static/admin.js marks it data-drawn)."""
    element = page.locator(f"#chart-{chart_id}")
    page.wait_for_selector(f"#chart-{chart_id}[data-drawn]")
    assert element.get_attribute("data-drawn") == "true"
    return element


def test_the_gap_report_and_the_reports_page_draw_their_charts(signed_in, admin_server, tmp_path):
    container = admin_server.container
    populate(container.engine, anchor())  # Support (6 people), Sales (5), Tiny (2): two weeks of activity
    for learner, question in (("slack:T1:UANNA", "How do I claim mileage for a client visit?"),
                              ("slack:T1:UBEN", "mileage claim for business trips")):
        assert container.coach.ask(IncomingMessage(learner_id=learner, text=question, platform="slack")).abstained
    page = signed_in
    problems = watch(page, admin_server.url)

    nav = page.get_by_role("navigation", name="Admin sections")
    nav.get_by_role("link", name="Content gaps", exact=True).click()
    page.wait_for_url(f"{admin_server.url}/admin/gaps")
    chart = drawn(page, "gaps_over_time")
    assert chart.locator(MARKS).count() >= 1  # this week's bar of unanswered questions
    assert "7 in clusters still open" in chart.get_attribute("aria-label")  # the description, for screen readers
    assert page.locator(".gap").count() == 2  # the mileage questions, and the feedback thread of populate()
    assert page.locator(".gap").first.locator("svg.spark rect").count() == 8
    assert page.get_by_role("link", name=re.compile("Upload the missing content")).count() == 2
    page.screenshot(path=str(tmp_path / "gaps.png"), full_page=True)

    nav.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(f"{admin_server.url}/admin/reports")
    page.get_by_label("Period").select_option("30")
    page.get_by_label("or the last … days").fill("14")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/admin/reports\?days=30&custom=14"))
    questions = drawn(page, "questions_per_day")
    rows = page.locator("#questions_per_day table tbody tr")
    assert questions.locator("svg g.mark-rect.role-mark path").count() == rows.count() == 3  # a bar per row
    for chart_id in re.findall(r'data-chart="([a-z_]+)"', page.content()):
        assert drawn(page, chart_id).locator(MARKS).count() >= 1, chart_id
    assert float(questions.locator("svg").get_attribute("width")) > 600  # fills its column
    hidden = page.locator("#questions_per_day .hidden-rows")  # Tiny's web question, two Sales people's channel
    # questions the next day, and today's two mileage askers: one row each
    assert hidden.inner_text() == "3 rows hidden: fewer than 5 people." and hidden.is_visible()
    assert page.locator("#answers_per_day table caption").inner_text().startswith("Answered and rated per day")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Top topics” as CSV").click()
    assert download.value.suggested_filename.startswith("coach-topics-")
    assert SECRET not in page.content()
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)
    assert not problems, problems


def test_a_manager_sees_only_their_teams_reports_and_cannot_open_the_gaps(chromium, admin_server, tmp_path):
    container = admin_server.container
    populate(container.engine, anchor())
    accounts.update_account(container.engine, email="max@example.com", teams=["Support"], actor="test")
    page = sign_in_as(chromium, admin_server, "max@example.com")
    problems = watch(page, admin_server.url)
    nav = page.get_by_role("navigation", name="Admin sections")
    assert nav.get_by_role("link", name="Content gaps").count() == 0

    nav.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(f"{admin_server.url}/admin/reports")
    assert page.locator("#team option").all_inner_texts() == ["Support"]
    assert "team Support" in page.locator("#report-period").inner_text()
    assert drawn(page, "questions_per_day").locator(MARKS).count() == 2  # Support's direct messages and thread
    assert page.locator("dt:text-is('Questions asked') + dd").inner_text() == "11"

    other = page.goto(f"{admin_server.url}/admin/reports?team=Sales")
    assert other.status == 403 and page.locator("[data-chart]").count() == 0
    assert "your own team only (Support)" in page.get_by_role("alert").inner_text()

    gaps = page.goto(f"{admin_server.url}/admin/gaps")
    assert gaps.status == 403 and page.get_by_role("heading", name="Not allowed").is_visible()
    assert SECRET not in page.content()
    page.screenshot(path=str(tmp_path / "manager.png"), full_page=True)
    page.context.close()
    assert not problems, problems


def test_the_impact_report_on_demo_data_draws_its_four_parts(signed_in, admin_server, tmp_path):
    from coach import demo_data
    from tests.integration.test_admin_impact import seeded

    seeded(admin_server.container)
    page = signed_in
    problems = watch(page, admin_server.url)
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(f"{admin_server.url}/admin/reports")
    assert "coach demo-data --remove" in page.locator("#demo-banner").inner_text()
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Impact").click()
    page.wait_for_url(f"{admin_server.url}/admin/reports/impact")
    assert page.locator("#demo-banner").is_visible()

    for part in ("Effect on questions", "Quiz accuracy and retention", "Questions deflected and time saved (estimate)",
                 "Alignment with team focus"):
        assert page.get_by_role("heading", name=part, level=2).is_visible(), part
    effect = drawn(page, "effect_by_lesson")
    assert effect.locator("svg g.mark-symbol.role-mark path").count() >= 3  # a dot per lesson estimated
    assert effect.locator("svg g.mark-rule.role-mark line").count() >= 3  # and its interval
    assert "95% intervals" in effect.get_attribute("aria-label")
    assert "How it was computed:" in page.locator("#effect_by_lesson-method").inner_text()
    assert "matched" in page.locator("#effect_by_lesson-method").inner_text()
    rows = page.locator("#effect_by_lesson table tbody tr")
    estimated = rows.count() - rows.filter(has_text="not enough matched learners").count()
    assert effect.locator("svg g.mark-symbol.role-mark path").count() == estimated  # the chart leaves out rows
    # without a number (which lessons lack enough matches depends on the day the demo history ends on)
    assert drawn(page, "attempts_by_competency").locator(MARKS).count() >= 9  # three attempts per competency
    assert "FSRS" in page.locator("#retention_by_lesson-method").inner_text()
    assert drawn(page, "retention_by_lesson").locator(MARKS).count() >= 5
    deflected = drawn(page, "deflection")
    assert deflected.locator(MARKS).count() >= 5 and "estimate" in deflected.get_attribute("aria-label")
    assert "estimate" in page.locator("#deflection-method").inner_text()
    assert drawn(page, "alignment").locator(MARKS).count() >= 5  # lines and their points per team
    assert "focus" in page.locator("#alignment-method").inner_text()
    for chart_id in re.findall(r'data-chart="([a-z_]+)"', page.content()):
        drawn(page, chart_id)
    assert re.search(r"Time saved, estimate", page.locator("dl.numbers").inner_text())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Alignment with team focus” as CSV").click()
    assert download.value.suggested_filename.startswith("coach-impact-alignment-")
    page.screenshot(path=str(tmp_path / "impact.png"), full_page=True)
    assert not problems, problems

    demo_data.remove(admin_server.container.engine)
    page.reload()
    assert page.locator("#demo-banner").count() == 0
