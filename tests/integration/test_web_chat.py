"""The built-in web chat over HTTP: ask, cited answer, feedback tied to the browser's own learner id."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from coach.needs import needs_of
from connectors.server import create_app
from tests.conftest import write_content


def test_ask_and_rate_in_the_web_chat(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    browser = TestClient(create_app(container))

    page = browser.get("/", params={"q": "How do I report phishing?"})
    assert page.status_code == 200 and "<blockquote>" in page.text
    key = re.search(r'href="#source-(\w+)-1"', page.text).group(1)
    assert f'id="source-{key}-1"' in page.text and "How to report phishing" in page.text
    learner = browser.cookies["coach_learner"]
    need_id = re.search(r'name="value" value="([0-9a-f]+)"', page.text).group(1)

    assert "Thanks" in browser.post("/action", data={"kind": "helpful", "value": need_id}).text
    assert [n.feedback for n in needs_of(container.engine, learner)] == ["helpful"]
    stranger = TestClient(create_app(container))
    assert stranger.post("/action", data={"kind": "not_helpful", "value": need_id}).status_code == 404
    assert stranger.post("/action", data={"kind": "explode", "value": ""}).status_code == 400

    restricted = browser.get("/", params={"q": "What is the merit budget in the salary review?"}).text
    assert "3.5 percent" not in restricted

    answer = browser.post("/api/ask", json={"question": "And how fast must I report it?",
                                           "history": [{"speaker": "learner", "text": "How do I report phishing?"}]})
    assert answer.status_code == 200 and answer.json()["citations"][0]["title"] == "How to report phishing"
    assert browser.post("/api/ask", json={"question": ""}).status_code == 422


def test_learners_see_and_delete_what_is_kept_from_the_web_chat(container, tmp_path):
    container.knowledge.ingest([write_content(tmp_path / "content")])
    browser = TestClient(create_app(container))
    browser.post("/api/ask", json={"question": "How do I report phishing?"})
    kept = browser.post("/api/ask", json={"question": "what do you know about me?"}).json()
    assert kept["mode"] == "service" and "How do I report phishing?" in kept["answer"]
    assert len(browser.get("/api/me").json()["questions"]) == 1

    confirm = browser.get("/", params={"q": "forget me"}).text
    assert 'value="forget_confirm"' in confirm and "the 1 question I keep" in confirm
    assert "I keep nothing about you now" in browser.post("/action", data={"kind": "forget_confirm"}).text
    assert browser.get("/api/me").json()["questions"] == []


def test_answers_stream_into_the_web_chat(tmp_path, embedder):
    from coach.bootstrap import bootstrap
    from tests.conftest import make_settings
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    with FakeOpenAI() as api:
        api.chat = [Scripted("Forward the e-mail to security@example.com within one hour [1].", word_delay=0.05)]
        container = bootstrap(make_settings(tmp_path, LLM_BASE_URL=api.base_url, LLM_API_KEY="sk-test"),
                              embedder=embedder)
        container.knowledge.ingest([write_content(tmp_path / "content")])
        with TestClient(create_app(container)).stream(
                "POST", "/api/ask/stream", json={"question": "How do I report a phishing e-mail?"}) as response:
            events = [json.loads(line) for line in response.iter_lines() if line]
    partials = [e["partial"] for e in events[:-1]]
    assert len(partials) >= 3 and all(a != b for a, b in zip(partials, partials[1:]))
    assert partials[-1] == "Forward the e-mail to security@example.com within one hour [1]."
    final = events[-1]
    assert final["reply"]["mode"] == "generated" and final["reply"]["citations"][0]["title"] == "How to report phishing"
    assert '<section class="answer">' in final["html"] and "security@example.com" in final["html"]


def test_a_failure_while_answering_still_gets_a_reply_in_the_stream(container, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the vector store went away")

    monkeypatch.setattr(container.knowledge, "retrieve", broken)
    with TestClient(create_app(container)).stream("POST", "/api/ask/stream", json={"question": "Hello?"}) as response:
        events = [json.loads(line) for line in response.iter_lines() if line]
    assert events == [{"error": "Something went wrong while answering. Please ask again; if it keeps happening, "
                                "tell the L&D team."}]


def test_a_question_too_long_to_read_gets_a_reply_that_says_so_not_a_connection_error(container):
    pasted = "Why was my claim refused? " + "Here is the whole e-mail thread again. " * 80  # ~3,100 characters
    with TestClient(create_app(container)).stream("POST", "/api/ask/stream", json={"question": pasted}) as response:
        [event] = [json.loads(line) for line in response.iter_lines() if line]
    assert response.status_code == 200 and "over 2000 characters" in event["reply"]["answer"]
    assert "shorter message" in event["html"]


def test_a_micro_lesson_in_the_web_chat_is_shown_taught_and_graded(container, tmp_path):
    from tests.integration.lesson_files import load_test_lessons

    container.knowledge.ingest([write_content(tmp_path / "content")])
    load_test_lessons(container, tmp_path)
    client = TestClient(create_app(container))
    answer = client.get("/", params={"q": "How do I report a phishing e-mail?"}).text
    assert '<button name="kind" value="lesson">Micro-lesson: Report phishing fast</button>' in answer
    lesson = client.post("/action", data={"kind": "lesson", "value": "report-phishing"}).text
    assert "<strong>Report phishing fast</strong> (2 min)" in lesson and "<strong>Quick check:</strong>" in lesson
    assert 'value="report-phishing:0"' in lesson
    graded = client.post("/action", data={"kind": "answer", "value": "report-phishing:0"}).text
    assert "Right! Yes, that is how it works." in graded and "<strong>Why:</strong>" in graded


DUTCH_BROWSER = {"Accept-Language": "nl-NL,nl;q=0.9"}


def test_the_chat_page_speaks_the_browsers_language(container):
    from coach.i18n import _, speaking

    page = TestClient(create_app(container)).get("/", headers=DUTCH_BROWSER).text
    assert '<html lang="nl">' in page
    strings = json.loads(re.search(r'<script type="application/json" id="coach-strings">(.*?)</script>', page).group(1))
    with speaking("nl"):
        assert strings == {"thinking": _("Looking through the learning content…"),
                           "unreachable": _("The coach could not be reached. Check your connection and ask again.")}
        assert f"<title>{_('Learning coach')}</title>" in page and f'<button type="submit">{_("Ask")}</button>' in page
    english = TestClient(create_app(container)).get("/", headers={"Accept-Language": "fr-FR,en;q=0.5"}).text
    assert '<html lang="en">' in english and '"thinking": "Looking through the learning content\\u2026"' in english


def test_an_answer_for_a_dutch_browser_is_said_in_dutch(container, tmp_path):
    from coach.i18n import _, speaking

    container.knowledge.ingest([write_content(tmp_path / "content")])
    browser = TestClient(create_app(container))
    asked, ask = [], container.coach.ask

    def recording(message, on_partial=None, cancel=None):
        asked.append(message)
        return ask(message, on_partial, cancel)

    container.coach.ask = recording
    question = {"question": "report phishing?"}  # too short to say its language: the browser's decides
    reply = browser.post("/api/ask", json=question, headers=DUTCH_BROWSER).json()
    assert asked[-1].locale == "nl" and reply["language"] == "nl" and reply["citations"]
    assert browser.post("/api/ask", json=question).json()["language"] == "en" and asked[-1].locale == ""

    with browser.stream("POST", "/api/ask/stream", json=question, headers=DUTCH_BROWSER) as response:
        [event] = [json.loads(line) for line in response.iter_lines() if line]
    assert event["reply"]["language"] == "nl"
    with speaking("nl"):
        assert f"<h2>{_('Sources')}</h2>" in event["html"]
