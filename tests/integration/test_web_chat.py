"""The built-in web chat over HTTP: ask, cited answer, feedback tied to the browser's own learner id; the
conversation kept server-side (a reload shows it, "forget me" deletes it); every form works without JavaScript
(post, redirect, the whole conversation with the new reply)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from coach import transcripts
from coach.messages import Action, Citation, Reply
from coach.needs import needs_of
from connectors.server import create_app
from connectors.web.render import render
from tests.conftest import write_content
from tests.integration.web_helpers import ANSWER, MILEAGE, sample_container


@pytest.fixture(scope="module")
def samples(tmp_path_factory, embedder):
    return sample_container(tmp_path_factory.mktemp("web"), embedder)


@pytest.fixture(scope="module")
def app(samples):
    return create_app(samples)


def exchanges(page: str) -> list[str]:
    return re.findall(r'<div class="exchange"( id="x-\d+")?>', page)


def questions(page: str) -> list[str]:
    return re.findall(r'<p class="question">(.*?)</p>', page)


def test_a_question_posted_without_javascript_redirects_to_the_whole_conversation(app, samples):
    browser = TestClient(app)
    posted = browser.post("/ask", data={"q": MILEAGE}, follow_redirects=False)
    assert posted.status_code == 303 and re.fullmatch(r"/#x-\d+", posted.headers["location"])
    page = browser.get("/").text
    assert questions(page) == [MILEAGE] and ANSWER.search(page) and "<blockquote>" in page
    key = re.search(r'href="#source-(x\d+)-1"', page).group(1)
    assert f'id="source-{key}-1"' in page and "Expenses and travel" in page

    browser.post("/ask", data={"q": "And in the UK?"})
    page = browser.get("/").text  # a reload asks nothing again
    assert questions(page) == [MILEAGE, "And in the UK?"] and "per mile" in page
    learner = browser.cookies["coach_learner"]
    assert len(needs_of(samples.engine, learner)) == 2
    assert "?q=" not in page and 'method="post" action="/ask"' in page


def test_the_old_get_form_asks_once_and_then_shows_the_page_without_the_question(app, samples):
    browser = TestClient(app)
    asked = browser.get("/", params={"q": MILEAGE}, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/#x-")
    browser.get("/")
    browser.get("/")
    assert len(needs_of(samples.engine, browser.cookies["coach_learner"])) == 1


def test_a_button_without_javascript_keeps_the_conversation_and_appends_its_reply(app, samples):
    browser = TestClient(app)
    browser.post("/ask", data={"q": MILEAGE})
    page = browser.get("/").text
    on = re.search(r'<div class="exchange" id="x-(\d+)">', page).group(1)
    need_id = re.search(r'name="value" value="([0-9a-f]{32})"><input type="hidden" name="on"', page).group(1)

    pressed = browser.post("/action", data={"kind": "helpful", "value": need_id, "on": on}, follow_redirects=False)
    assert pressed.status_code == 303
    page = browser.get(pressed.headers["location"]).text
    assert questions(page) == [MILEAGE] and ANSWER.search(page)  # the answer is still there
    assert page.index("<blockquote>") < page.index("Thanks: your feedback helps")  # the thanks after it
    assert '<p class="question pressed">Helpful</p>' in page
    assert 'value="helpful"' not in page and 'value="not_helpful"' not in page  # rated once
    assert 'value="ask_human"' in page  # the other buttons stay
    assert [n.feedback for n in needs_of(samples.engine, browser.cookies["coach_learner"])] == ["helpful"]

    stranger = TestClient(app)
    refused = stranger.post("/action", data={"kind": "not_helpful", "value": need_id})
    assert refused.status_code == 404 and 'role="alert"' in refused.text
    assert stranger.post("/action", data={"kind": "explode", "value": ""}).status_code == 400


def test_a_micro_lesson_opens_with_its_table_and_quiz_buttons_and_is_graded(app):
    browser = TestClient(app)
    browser.post("/ask", data={"q": MILEAGE})
    page = browser.get("/").text
    lesson = re.search(r'name="value" value="([\w-]+)"><input type="hidden" name="on" value="(\d+)"><button '
                       r'type="submit" name="kind" value="lesson">', page)
    assert lesson, "the answer offers a micro-lesson"
    shown = browser.post("/api/action", data={"kind": "lesson", "value": lesson[1], "on": lesson[2]}).json()
    html = shown["html"]
    assert '<div class="table-wrap" role="region" tabindex="0" aria-label="Table"><table>' in html
    assert "<th>Destination</th>" in html and "<td>GBP 40</td>" in html and "| ---" not in html
    assert "<strong>Quick check:</strong>" in html and "**A.**" not in html and "<li><strong>A.</strong>" not in html
    options = re.findall(r'name="value" value="(per-diem-meals:\d)"><input type="hidden" name="on" value="(\d+)">'
                         r'<button type="submit" name="kind" value="answer">([^<]+)</button>', html)
    assert [label for _v, _on, label in options] == ["A. GBP 40", "B. GBP 16", "C. GBP 24", "D. GBP 30"]
    assert 'role="group" aria-label="Answer options"' in html
    assert 'value="lesson"' not in shown["actions"]  # the lesson's button went from the answer

    value, on, _label = options[2]
    graded = browser.post("/action", data={"kind": "answer", "value": value, "on": on})
    assert graded.status_code == 200 and "Right!" in graded.text and "<strong>Why:</strong>" in graded.text
    assert questions(graded.text) == [MILEAGE] and "<th>Destination</th>" in graded.text  # all of it, in order
    assert 'value="answer"' not in graded.text  # answered: the options are not offered again


def test_help_and_what_is_kept_are_lists_not_markdown(app):
    browser = TestClient(app)
    browser.post("/ask", data={"q": MILEAGE})
    browser.post("/ask", data={"q": "help"})
    browser.post("/ask", data={"q": "what do you know about me"})
    page = browser.get("/").text
    assert "<li><em>what should I learn next?</em> for a short micro-lesson" in page
    assert "<li>1 question, personal details removed" in page and "\n- " not in page.split('id="conversation"')[1]
    assert "<li>2 turns of our conversation in the web chat" in page  # the mileage question and "help"


def test_forget_me_without_javascript_ends_on_an_empty_conversation(app, samples):
    browser = TestClient(app)
    browser.post("/ask", data={"q": MILEAGE})
    browser.post("/ask", data={"q": "forget me"})
    confirm = browser.get("/").text
    assert 'value="forget_confirm"' in confirm and "the 1 question I keep" in confirm
    on = re.findall(r'name="on" value="(\d+)"><button type="submit" name="kind" value="forget_confirm"', confirm)[0]
    done = browser.post("/action", data={"kind": "forget_confirm", "on": on}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/?forgotten=1"
    page = browser.get(done.headers["location"]).text
    assert "Done: I deleted your profile and 1 question." in page and MILEAGE not in page
    assert questions(browser.get("/").text) == []
    learner = browser.cookies["coach_learner"]
    assert transcripts.export(samples.engine, learner) == [] and browser.get("/api/me").json()["questions"] == []


def test_the_kept_conversation_is_redacted_bounded_and_in_the_export(app, samples):
    browser = TestClient(app)
    browser.post("/ask", data={"q": "I am jan.devries@northwindloom.example: how much is mileage per km?"})
    page = browser.get("/").text
    assert "jan.devries@" not in page and "&lt;EMAIL&gt;" in page
    kept = browser.get("/api/me").json()["web_conversation"]
    assert len(kept) == 1 and "<EMAIL>" in kept[0]["said"] and ANSWER.search(kept[0]["reply"])
    for n in range(transcripts.KEPT + 2):  # "help" is not a question: not rate-limited, not logged
        browser.post("/ask", data={"q": "help"})
    page = browser.get("/").text
    assert len(exchanges(page)) == transcripts.KEPT and "&lt;EMAIL&gt;" not in page  # the oldest went first
    assert samples.coach.forget(browser.cookies["coach_learner"])["web_conversation"] == transcripts.KEPT
    assert exchanges(browser.get("/").text) == []


def test_a_question_too_long_to_read_is_kept_shortened_and_answered_as_such(app):
    browser = TestClient(app)
    pasted = "Why was my claim refused? " + "Here is the whole e-mail thread again. " * 70  # ~2,800 characters
    browser.post("/ask", data={"q": pasted})
    page = browser.get("/").text
    assert "over 2000 characters" in page and "…</p>" in page and len(questions(page)[0]) < 2100
    assert browser.post("/api/ask", json={"question": "x" * 20_001}).status_code == 422  # chat.js says too long


def test_every_page_has_the_admins_content_security_policy_and_no_inline_script_or_style(app):
    browser = TestClient(app)
    for path in ("/", "/?forgotten=0"):
        response = browser.get(path)
        assert response.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert "<style" not in response.text and " style=" not in response.text
        assert re.findall(r"<script(?![^>]*(?:type=\"application/json\"|src=))", response.text) == []
    assert browser.get("/static/chat.css").headers["content-type"].startswith("text/css")


def test_a_post_from_another_site_is_refused(app):
    browser = TestClient(app)
    assert browser.post("/ask", data={"q": MILEAGE}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert browser.post("/api/action", data={"kind": "cancel"}, headers={"Origin": "null"}).status_code == 403
    same = browser.post("/ask", data={"q": "help"}, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same.status_code == 303


def test_each_source_entry_opens_the_cited_passage_and_restricted_sources_stay_closed(app, samples):
    browser = TestClient(app)
    browser.post("/ask", data={"q": MILEAGE})
    page = browser.get("/").text
    links = re.findall(r'<li id="source-x\d+-\d+" value="\d+"><a href="([^"]+)">', page)
    assert links and all(re.fullmatch(r"/sources/[0-9a-f]+#chunk-[0-9a-f]+", link) for link in links)
    path, chunk = links[0].split("#")
    opened = browser.get(path)
    assert opened.status_code == 200 and f'id="{chunk}"' in opened.text
    assert opened.headers["x-frame-options"] == "DENY"
    salary = next(s for s in samples.knowledge.sources() if "managers" in s.audience)
    assert browser.get(f"/sources/{salary.id}").status_code == 404  # a web visitor is not a manager


def test_replies_are_sanitised_markdown_with_their_own_source_links():
    when = datetime(2026, 3, 5, tzinfo=timezone.utc)
    reply = Reply(
        text="From the content:\n\n> Rates <script>alert(1)</script> apply. [1]\n\n| A | B |\n| --- | --- |\n"
             "| x [2] | [see](javascript:alert(1)) |\n\n[mail](mailto:hr@example.com) [site](/admin) [3]\n\n# Heading",
        citations=[Citation(1, "s1", "c1", "Policy", "p. 3", "https://intranet.example/policy.pdf", when),
                   Citation(2, "s2", "c2", "FAQ", "", "", when)],
        actions=[Action("helpful", "Helpful", "n1")], language="en")
    html = render(reply, "k1")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html and 'href="/admin"' not in html and 'href="mailto:hr@example.com"' in html
    assert '<a href="#source-k1-1" rel="noopener noreferrer">[1]</a>' in html
    assert '<td>x <a href="#source-k1-2" rel="noopener noreferrer">[2]</a></td>' in html
    assert "[3]" in html and 'href="#source-k1-3"' not in html  # no such source: the marker stays text
    assert "<h3>Heading</h3>" in html and "<h1>" not in html
    assert '<a href="https://intranet.example/policy.pdf#page=3">Policy</a>' in html
    assert '<a href="/sources/s2#chunk-c2">FAQ</a>' in html and "updated 05 Mar 2026" in html
    assert 'lang="en"' in html


def test_answers_stream_into_the_web_chat(tmp_path, embedder):
    from coach.bootstrap import bootstrap
    from tests.conftest import make_settings
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    with FakeOpenAI() as api:
        api.chat = [Scripted("Forward the e-mail to security@example.com within one hour [1].", word_delay=0.05)]
        container = bootstrap(make_settings(tmp_path, LLM_BASE_URL=api.base_url, LLM_API_KEY="sk-test"),
                              embedder=embedder)
        container.knowledge.ingest([write_content(tmp_path / "content")])
        browser = TestClient(create_app(container))
        with browser.stream("POST", "/api/ask/stream", json={"question": "How do I report a phishing e-mail?"}) \
                as response:
            events = [json.loads(line) for line in response.iter_lines() if line]
        page = browser.get("/").text
    partials = [e["partial"] for e in events[:-1]]
    assert len(partials) >= 3 and all(a != b for a, b in zip(partials, partials[1:]))
    assert partials[-1] == "Forward the e-mail to security@example.com within one hour [1]."
    final = events[-1]
    assert final["reply"]["mode"] == "generated" and final["reply"]["citations"][0]["title"] == "How to report phishing"
    assert 'class="answer"' in final["html"] and "security@example.com" in final["html"]
    assert f'id="x-{final["id"]}"' in page and "How do I report a phishing e-mail?" in page  # kept for a reload


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


DUTCH_BROWSER = {"Accept-Language": "nl-NL,nl;q=0.9"}


def test_the_chat_page_speaks_the_browsers_language(container):
    from coach.coach import MAX_QUESTION_CHARS, TOO_LONG
    from coach.i18n import _, speaking
    from coach.rate_limit import SLOW_DOWN

    page = TestClient(create_app(container)).get("/", headers=DUTCH_BROWSER).text
    assert '<html lang="nl">' in page
    strings = json.loads(re.search(r'<script type="application/json" id="coach-strings">(.*?)</script>', page).group(1))
    with speaking("nl"):
        assert strings == {"thinking": _("Looking through the learning content…"),
                           "unreachable": _("The coach could not be reached. Check your connection and ask again."),
                           "too_long": _(TOO_LONG).format(limit=MAX_QUESTION_CHARS), "slow_down": _(SLOW_DOWN)}
        assert f"<title>{_('Learning coach')}</title>" in page and f'<button type="submit">{_("Ask")}</button>' in page
    english = TestClient(create_app(container)).get("/", headers={"Accept-Language": "fr-FR,en;q=0.5"}).text
    assert '<html lang="en">' in english and '"thinking": "Looking through the learning content\\u2026"' in english


def test_an_answer_for_a_dutch_browser_is_said_in_dutch(samples, app):
    from coach.i18n import _, speaking

    browser = TestClient(app)
    asked, ask = [], samples.coach.ask

    def recording(message, on_partial=None, cancel=None):
        asked.append(message)
        return ask(message, on_partial, cancel)

    samples.coach.ask = recording
    try:
        question = {"question": "mileage rate?"}  # too short to say its language: the browser's decides
        reply = browser.post("/api/ask", json=question, headers=DUTCH_BROWSER).json()
        assert asked[-1].locale == "nl" and reply["language"] == "nl" and reply["citations"]
        assert browser.post("/api/ask", json=question).json()["language"] == "en" and asked[-1].locale == ""
        with browser.stream("POST", "/api/ask/stream", json=question, headers=DUTCH_BROWSER) as response:
            [event] = [json.loads(line) for line in response.iter_lines() if line]
    finally:
        samples.coach.ask = ask
    assert event["reply"]["language"] == "nl" and 'lang="nl"' in event["html"]
    with speaking("nl"):
        assert f"<h3>{_('Sources')}</h3>" in event["html"]


def test_a_question_the_content_does_not_cover_offers_a_person_in_place(app):
    browser = TestClient(app)
    browser.post("/ask", data={"q": "What is the recipe for the canteen's lasagne?"})
    page = browser.get("/").text
    assert '<section class="answer abstained"' in page and "couldn't find this" in page
    on, need = re.search(r'<div class="exchange" id="x-(\d+)">', page)[1], re.search(r'value="([0-9a-f]{32})"', page)[1]
    pressed = browser.post("/api/action", data={"kind": "ask_human", "value": need, "on": on}).json()
    assert "For a person who knows this, ask" in pressed["html"] and 'value="ask_human"' not in pressed["actions"]


def test_the_sample_questions_get_the_answers_the_content_gives(app):
    """The README's own questions on the sample content: the rate table as a table, the FAQ cited; claiming mileage
    answered; the UK per diem from the policy's table; electric cars said not to be covered."""
    browser = TestClient(app)
    rate = browser.post("/api/ask", json={"question": "what is the mileage rate?"}).json()
    assert "| Country | Vehicle | Rate |\n| --- | --- | --- |\n| Netherlands | Car, motorbike or bicycle |" in rate["answer"]
    assert {c["title"] for c in rate["citations"]} == {"Expenses and travel FAQ", "Expenses and travel policy"}
    assert all(f"[{c['n']}]" in rate["answer"] for c in rate["citations"])
    page = browser.post("/ask", data={"q": "what is the mileage rate?"})
    assert re.search(r"<th>Country</th>\s*<th>Vehicle</th>\s*<th>Rate</th>", page.text) and "| ---" not in page.text
    claim = browser.post("/api/ask", json={"question": "how do I claim mileage?"}).json()
    assert not claim["abstained"] and ANSWER.search(claim["answer"]) and claim["citations"]
    per_diem = browser.post("/api/ask", json={"question": "what is the per diem in the UK?"}).json()
    assert "GBP 40" in per_diem["answer"] and per_diem["citations"]
    electric = browser.post("/api/ask", json={"question": "and for electric cars?", "history": [
        {"speaker": "learner", "text": "what is the mileage rate?"}, {"speaker": "coach", "text": rate["answer"]}]})
    assert electric.json()["answer"].startswith("The learning content does not mention *electric cars*")
