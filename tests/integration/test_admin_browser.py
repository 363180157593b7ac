"""The web admin in a real headless browser (Debian's Chromium driven by Playwright), against the app served by
uvicorn on loopback.

Shared by every admin area's browser tests (append yours below): `admin_server` is the running app (`.url`,
`.container`, with the accounts of ACCOUNTS), `signed_in` a page signed in as the ld-admin and resting on /admin,
`sign_in_as(chromium, admin_server, email)` another account's page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from coach import accounts
from coach.bootstrap import bootstrap
from connectors.server import create_app
from tests.conftest import make_settings, served
from tests.integration.admin_helpers import PASSWORD

ACCOUNTS = {"lea@example.com": "ld-admin", "max@example.com": "manager", "vic@example.com": "viewer"}


@dataclass
class AdminServer:
    url: str
    container: object


@pytest.fixture
def admin_server(tmp_path, embedder):
    container = bootstrap(make_settings(tmp_path), embedder=embedder)
    for email, role in ACCOUNTS.items():
        accounts.add_account(container.engine, email=email, role=role, password=PASSWORD, actor="test")
    with served(create_app(container)) as url:
        yield AdminServer(url=url, container=container)


def sign_in_as(chromium, server: AdminServer, email: str):
    """A new page (its own cookies) signed in with the password, resting on /admin."""
    page = chromium.new_context().new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}/admin")  # no session: on to the sign-in page
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{server.url}/admin")
    return page


@pytest.fixture
def signed_in(chromium, admin_server):
    page = sign_in_as(chromium, admin_server, "lea@example.com")
    yield page
    page.context.close()


# --- Content -----------------------------------------------------------------------------------------------------


def test_upload_a_pdf_see_it_listed_and_cited_in_try_it(signed_in, admin_server, tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Mileage is reimbursed at 0.23 euro per kilometre driven with your own car.")
    path = tmp_path / "mileage-policy.pdf"
    pdf.output(str(path))

    page = signed_in
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="Content", exact=True).click()
    page.get_by_role("link", name="Upload", exact=True).click()
    page.locator("#files").set_input_files(str(path))  # the drop zone's own file input
    assert "mileage-policy.pdf" in page.locator("#upload-files").inner_text()
    page.get_by_label("Owner").fill("finance@example.com")
    page.get_by_role("button", name="Upload", exact=True).click()
    page.locator("#upload-files .badge.added").wait_for()
    assert "mileage-policy.pdf: added" in page.get_by_role("status").first.inner_text() or \
        "Done: 1 added" in page.locator("#upload-status").inner_text()

    page.evaluate("""() => {  // a file dragged from the desktop and dropped on the zone
        const data = new DataTransfer();
        data.items.add(new File(["Claims for train tickets go to finance within 30 days."], "train.txt",
                                {type: "text/plain"}));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
    }""")
    page.get_by_role("button", name="Upload", exact=True).click()
    page.locator("#upload-files li", has_text="train.txt").locator(".badge.added").wait_for()
    page.locator("#upload-status", has_text="Done").wait_for()

    page.get_by_role("link", name="Sources", exact=True).click()
    row = page.get_by_role("row", name="Mileage policy")
    assert "finance@example.com" in row.inner_text() and "pdf" in row.inner_text()
    page.get_by_role("searchbox", name="Search").fill("train")
    page.get_by_role("button", name="Show", exact=True).click()
    assert page.get_by_role("row").count() == 2 and "upload:train.txt" in page.locator("tbody").inner_text()

    page.get_by_role("link", name="Try it", exact=True).click()
    page.get_by_role("textbox", name="Question").fill("How much is mileage reimbursed per kilometre?")
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.locator("section.trial")
    answer.wait_for()
    assert "0.23 euro per kilometre" in answer.locator(".answer").inner_text()
    assert page.get_by_role("link", name="[1]").count() >= 1
    assert "Mileage policy" in answer.locator("ol.citations").inner_text()
    assert "Dense (cosine)" in answer.inner_text()
    page.screenshot(path=str(tmp_path / "try-it.png"))


def test_a_manager_cannot_open_the_sources_page(chromium, admin_server):
    page = sign_in_as(chromium, admin_server, "max@example.com")
    assert page.get_by_role("link", name="Content", exact=True).count() == 0
    answer = page.goto(f"{admin_server.url}/admin/content")
    assert answer.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "cannot open this page" in page.get_by_role("alert").inner_text()


# --- Lessons -----------------------------------------------------------------------------------------------------


def test_open_a_drafted_lesson_approve_it_and_see_it_listed_as_approved(signed_in, admin_server):
    from coach.lessons import catalog
    from coach.lessons.authoring import parse_lesson
    from tests.integration.lesson_files import lesson_file

    engine = admin_server.container.engine
    spec = parse_lesson(lesson_file("draft-vpn", "Connect to the VPN", "information-security"), "draft-vpn.md")
    catalog.save(engine, [spec], status="draft", origin="drafted")

    page = signed_in
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="Lessons").click()
    assert page.locator('tr[data-key="draft-vpn"] .badge').inner_text() == "draft"
    page.get_by_role("link", name="Connect to the VPN").click()
    page.wait_for_url(f"{admin_server.url}/admin/lessons/draft-vpn")
    assert page.get_by_label("Title").input_value() == "Connect to the VPN"
    assert page.get_by_label("Option 1 is the right answer").is_checked()

    assert page.get_by_label("Text of option 5").is_hidden()  # one empty row shows; the next one on request
    page.get_by_role("button", name="Add an option").click()
    page.get_by_label("Text of option 5").fill("Restart the laptop and hope")
    page.get_by_label("Feedback for option 5").fill("The VPN does not start by itself.")
    page.get_by_label("Title").fill("Connect to the VPN from home")
    page.get_by_role("button", name="Save and approve").click()

    page.wait_for_url(f"{admin_server.url}/admin/lessons")
    assert "learners can get it now" in page.get_by_role("status").first.inner_text()
    row = page.locator('tr[data-key="draft-vpn"]')
    assert row.locator(".badge").inner_text() == "approved" and "Connect to the VPN from home" in row.inner_text()
    page.get_by_role("link", name="Approved (1)").click()
    assert page.locator("tbody tr").count() == 1
    lesson = catalog.get(engine, "draft-vpn")
    assert lesson.status == "approved" and lesson.options[-1]["text"] == "Restart the laptop and hope"
