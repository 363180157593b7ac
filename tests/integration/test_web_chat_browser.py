"""The web chat in a real headless browser (Debian's Chromium driven by Playwright): ask, read, rate."""

from __future__ import annotations

import pytest

from connectors.server import create_app
from tests.conftest import served, write_content


@pytest.fixture
def server(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    with served(create_app(container)) as url:
        yield url


def test_ask_read_the_cited_answer_and_rate_it(chromium, server, tmp_path):
    page = chromium.new_page()
    page.goto(server)
    page.get_by_label("Ask about your company's learning content").fill("How do I report phishing?")
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.locator("section.answer")
    answer.wait_for()
    assert "security@example.com" in answer.inner_text()
    assert page.get_by_role("link", name="[1]").count() >= 1
    assert "How to report phishing" in answer.locator("li[id$='-1']").inner_text()
    page.get_by_label("Ask about your company's learning content").fill("And how fast must I report it?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator("section.answer").nth(1).wait_for()  # the conversation keeps the first answer above the second
    assert page.locator("p.question").all_inner_texts() == ["How do I report phishing?", "And how fast must I report it?"]
    assert "hour" in page.locator("section.answer").nth(1).inner_text()
    page.screenshot(path=str(tmp_path / "answer.png"))

    page.get_by_role("button", name="Helpful", exact=True).first.click()
    assert "Thanks" in page.get_by_role("status").inner_text()
