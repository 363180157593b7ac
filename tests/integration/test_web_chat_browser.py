"""The web chat in a real headless browser (Debian's Chromium driven by Playwright) on the sample company's
content: ask, read, press the buttons in place, reload, forget; at phone width, by keyboard, under the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.server import create_app
from tests.conftest import served
from tests.integration.web_helpers import ANSWER, MILEAGE, sample_container

LABEL = "Ask about your company's learning content"


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    with served(create_app(sample_container(tmp_path_factory.mktemp("web"), embedder))) as url:
        yield url


class Chat:
    """One learner's browser tab on the chat, with what its console said (CSP violations are reported there)."""

    def __init__(self, chromium, server: str, **context) -> None:
        self.server, self.console = server, []
        self.page = chromium.new_context(**context).new_page()
        self.page.on("console", lambda message: self.console.append(message.text))
        self.response = self.page.goto(server + "/")

    def ask(self, question: str):
        before = self.page.locator("#conversation .exchange section.answer").count()
        self.page.get_by_label(LABEL).fill(question)
        self.page.get_by_role("button", name="Ask", exact=True).click()
        answer = self.page.locator("#conversation .exchange section.answer").nth(before)
        answer.wait_for()
        return answer

    def still_here(self) -> None:
        """No page was loaded since the first: the conversation was changed in place."""
        assert self.page.url == self.server + "/"
        assert self.page.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert self.page.evaluate("window.__first_load__ === true")

    def mark_load(self) -> None:
        self.page.evaluate("window.__first_load__ = true")  # gone if the page navigates

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


def test_ask_the_mileage_question_and_read_the_cited_answer(chromium, server, tmp_path):
    chat = Chat(chromium, server)
    chat.mark_load()
    answer = chat.ask(MILEAGE)
    assert ANSWER.search(answer.inner_text())
    assert "**" not in answer.inner_text() and "> " not in answer.inner_text()
    marker = answer.get_by_role("link", name="[1]").first
    target = marker.get_attribute("href")
    assert re.fullmatch(r"#source-x\d+-1", target)
    entry = answer.locator(f"li{target}")
    assert "Expenses and travel" in entry.inner_text() and "updated" in entry.inner_text()
    assert entry.get_by_role("link").get_attribute("href").startswith("/sources/")
    chat.still_here()
    assert chat.page.locator("section.answer[lang='en']").count() == 1
    chat.page.screenshot(path=str(tmp_path / "answer.png"))

    chat.page.goto(server + entry.get_by_role("link").get_attribute("href"))  # the source, at the passage
    passage = chat.page.locator(".passage:target")
    assert passage.count() == 1 and passage.inner_text().strip()
    assert chat.csp_violations() == []


def test_helpful_and_not_helpful_keep_the_conversation_on_the_page(chromium, server):
    chat = Chat(chromium, server)
    chat.mark_load()
    first = chat.ask(MILEAGE)
    second = chat.ask("And what is the per diem for meals?")
    first.get_by_role("button", name="Helpful", exact=True).click()
    expect(chat.page.locator("#conversation")).to_contain_text("Thanks: your feedback helps")
    expect(first.get_by_role("button", name="Not helpful")).to_have_count(0)  # rated: the pair went
    second.get_by_role("button", name="Not helpful", exact=True).click()
    expect(chat.page.locator(".exchange section.answer")).to_have_count(4)
    assert chat.page.locator("p.question:not(.pressed)").all_inner_texts() == [
        MILEAGE, "And what is the per diem for meals?"]
    assert chat.page.locator("p.question.pressed").all_inner_texts() == ["Helpful", "Not helpful"]
    assert ANSWER.search(first.inner_text())
    chat.still_here()
    assert chat.csp_violations() == []


def test_a_micro_lesson_opens_inline_with_its_table_and_quiz_buttons(chromium, server):
    chat = Chat(chromium, server)
    chat.mark_load()
    answer = chat.ask(MILEAGE)
    answer.get_by_role("button", name=re.compile(r"^Micro-lesson: ")).click()
    lesson = chat.page.locator(".exchange section.answer").nth(1)
    lesson.locator("table").wait_for()
    assert lesson.locator("table th").first.inner_text() == "Destination"
    assert "|" not in lesson.inner_text() and "**" not in lesson.inner_text()
    options = lesson.get_by_role("group", name="Answer options").get_by_role("button")
    assert options.all_inner_texts() == ["A. GBP 40", "B. GBP 16", "C. GBP 24", "D. GBP 30"]
    expect(chat.page.locator(":focus")).to_have_count(1)
    assert chat.page.evaluate("document.activeElement.classList.contains('answer')")  # focus moved to the lesson
    options.nth(2).click()
    expect(chat.page.locator("#conversation")).to_contain_text("Right!")
    expect(lesson.get_by_role("button", name="A. GBP 40")).to_have_count(0)
    assert lesson.locator("table").count() == 1 and ANSWER.search(answer.inner_text())
    chat.still_here()
    assert chat.csp_violations() == []


def test_forget_me_with_its_confirm_keeps_the_page_then_a_reload_is_empty(chromium, server):
    chat = Chat(chromium, server)
    chat.mark_load()
    chat.ask(MILEAGE)
    confirm = chat.ask("forget me")
    confirm.get_by_role("button", name="Yes, forget me").click()
    expect(chat.page.locator("#conversation")).to_contain_text("Done: I deleted your profile and 1 question.")
    chat.still_here()
    chat.page.reload()
    expect(chat.page.locator("#conversation .exchange")).to_have_count(0)
    assert chat.csp_violations() == []


def test_a_reload_shows_the_conversation_back(chromium, server):
    chat = Chat(chromium, server)
    chat.ask(MILEAGE)
    chat.ask("help")
    chat.page.reload()
    assert chat.page.locator("p.question").all_inner_texts() == [MILEAGE, "help"]
    assert ANSWER.search(chat.page.locator("section.answer").first.inner_text())
    assert chat.page.locator("section.answer").nth(1).locator("li").count() >= 5  # help is a list


def test_a_question_too_long_to_read_shows_the_coachs_reply_and_a_network_failure_says_so(chromium, server):
    chat = Chat(chromium, server)
    answer = chat.ask("Why was my claim refused? " + "x" * 2474)  # 2,500 characters
    assert "over 2000 characters" in answer.inner_text()
    assert "could not be reached" not in chat.page.locator("#conversation").inner_text()

    chat.page.route("**/api/ask/stream", lambda route: route.abort())
    chat.page.get_by_label(LABEL).fill(MILEAGE)
    chat.page.get_by_role("button", name="Ask", exact=True).click()
    expect(chat.page.get_by_role("alert")).to_contain_text("The coach could not be reached")
    assert chat.page.get_by_label(LABEL).input_value() == MILEAGE  # kept, to ask again


def test_at_phone_width_the_page_does_not_scroll_sideways(chromium, server, tmp_path):
    chat = Chat(chromium, server, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    answer = chat.ask(MILEAGE)
    answer.get_by_role("button", name=re.compile(r"^Micro-lesson: ")).click()
    chat.page.locator(".exchange").nth(1).locator("table").wait_for()  # the lesson's
    chat.page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    width = chat.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width
    for wrap in chat.page.locator(".table-wrap").all():  # a wide table scrolls in its own box
        box = wrap.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert wrap.evaluate("element => getComputedStyle(element).overflowX") == "auto"


def test_the_page_has_the_csp_header_and_no_violations(chromium, server):
    chat = Chat(chromium, server)
    policy = chat.response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert chat.response.headers["x-frame-options"] == "DENY"
    assert chat.page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")  # chat.css ran
    chat.ask(MILEAGE)  # chat.js ran: the answer came in place
    assert chat.page.url == server + "/"
    assert chat.csp_violations() == []


def test_keyboard_tab_reaches_the_buttons_and_enter_presses_one(chromium, server):
    chat = Chat(chromium, server)
    chat.ask(MILEAGE)
    chat.page.evaluate("document.activeElement.blur()")
    for _ in range(40):
        chat.page.keyboard.press("Tab")
        if chat.page.evaluate("document.activeElement.textContent") == "Helpful":
            break
    else:
        pytest.fail("Tab never reached the Helpful button")
    outline = chat.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    chat.page.keyboard.press("Enter")
    expect(chat.page.locator("#conversation")).to_contain_text("Thanks: your feedback helps")
    assert chat.page.evaluate("document.activeElement.closest('.exchange') === "
                              "document.querySelector('#conversation').lastElementChild")
