"""The built-in web chat over HTTP: ask, cited answer, feedback tied to the browser's own learner id."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coach.needs import needs_of
from connectors.server import create_app
from tests.conftest import write_content


def test_ask_and_rate_in_the_web_chat(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    browser = TestClient(create_app(container))

    page = browser.get("/", params={"q": "How do I report phishing?"})
    assert page.status_code == 200 and "<blockquote>" in page.text and 'href="#source-1"' in page.text
    assert "How to report phishing" in page.text
    learner = browser.cookies["coach_learner"]
    need_id = re.search(r'name="need_id" value="([0-9a-f]+)"', page.text).group(1)

    assert "Thanks" in browser.post("/feedback", data={"need_id": need_id, "helpful": "yes"}).text
    assert [n.feedback for n in needs_of(container.engine, learner)] == ["helpful"]
    stranger = TestClient(create_app(container))
    assert stranger.post("/feedback", data={"need_id": need_id, "helpful": "no"}).status_code == 404

    restricted = browser.get("/", params={"q": "What is the merit budget in the salary review?"}).text
    assert "3.5 percent" not in restricted

    answer = browser.post("/api/ask", json={"question": "And how fast must I report it?",
                                           "history": [{"speaker": "learner", "text": "How do I report phishing?"}]})
    assert answer.status_code == 200 and answer.json()["citations"][0]["title"] == "How to report phishing"
    assert browser.post("/api/ask", json={"question": ""}).status_code == 422
