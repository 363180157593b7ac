"""The web chat in a real headless browser (Debian's Chromium driven by Playwright): ask, read, rate."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from connectors.server import create_app
from tests.conftest import free_port, write_content



@pytest.fixture
def server(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    port = free_port()
    app_server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not app_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(timeout=10)


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
