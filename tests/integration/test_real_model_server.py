"""The model path against a real server: llama.cpp's own (xllamacpp) serving Gemma 3 270M, a base model that writes
on and on and nearly always fails the checks. Whatever it does, the learner gets a useful reply (a checked answer or
the cited quotes with their notice), never the prompt, and the server is left idle once the learner has the reply.
Outcomes are asserted, not times (the machines here are shared)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlmodel import select

from coach.bootstrap import bootstrap
from coach.messages import IncomingMessage
from coach.store.models import ModelExchange
from kernel.store import session
from tests.conftest import make_settings, write_content
from tests.model_server import model_server

pytestmark = pytest.mark.model_server

QUESTION = IncomingMessage(learner_id="U1", text="How do I report a phishing e-mail?")
CHECKED = {"answered", "declined", "malformed", "echo", "too_long", "numbers", "unsupported"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with model_server(tmp_path_factory.mktemp("llama") / "server.log") as (url, process):
        yield url


def build(tmp_path, embedder, url: str, **values):
    settings = make_settings(tmp_path, LLM_BASE_URL=url, LLM_MODEL="gemma-3-270m", COACH_COMPANY_NAME="Northwind",
                             **values)
    container = bootstrap(settings, embedder=embedder)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    return container


def last_exchange(container) -> ModelExchange:
    with session(container.engine) as db:
        return db.exec(select(ModelExchange).order_by(ModelExchange.id.desc())).first()


def idle(url: str, timeout: float = 20.0) -> bool:
    """Whether every slot of the server has stopped generating within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slots = httpx.get(url.removesuffix("/v1") + "/slots", timeout=5).json()
        if not any(slot.get("is_processing") for slot in slots):
            return True
        time.sleep(0.1)
    return False


def assert_useful(reply, container) -> None:
    """A checked model answer, or the quoted passages with the notice that says why."""
    assert not reply.abstained and reply.citations
    assert "<passage>" not in reply.text and "Rules:" not in reply.text and "NOT_COVERED" not in reply.text
    if reply.mode == "extractive":
        assert reply.notice and reply.text.split("\n\n")[1].startswith("> ")
    else:
        assert reply.mode == "generated" and last_exchange(container).outcome == "answered"


def test_a_streamed_answer_from_the_real_server_is_checked_before_it_is_shown(tmp_path, embedder, server):
    container = build(tmp_path, embedder, server, LLM_BUDGET_S=60, LLM_MAX_TOKENS=48)
    partials: list[str] = []
    reply = container.coach.ask(QUESTION, partials.append)
    assert_useful(reply, container)
    record = last_exchange(container)
    assert record.outcome in CHECKED and 0 < record.output_tokens <= 48  # the server honoured the token limit
    assert record.input_tokens > 0 and partials  # it streamed
    assert idle(server)


def test_the_deadline_holds_against_a_model_that_writes_on(tmp_path, embedder, server):
    container = build(tmp_path, embedder, server, LLM_BUDGET_S=1.5, LLM_MAX_TOKENS=4000)
    reply = container.coach.ask(QUESTION)
    assert_useful(reply, container)
    record = last_exchange(container)
    if record.outcome == "budget":  # the usual case: still writing at the deadline
        assert reply.mode == "extractive" and "took too long" in reply.notice
    assert idle(server)  # the stream was closed: the server stopped generating for nobody


def test_a_learner_who_goes_away_frees_the_one_slot_server(tmp_path, embedder, server):
    container = build(tmp_path, embedder, server, LLM_BUDGET_S=60, LLM_MAX_TOKENS=4000, LLM_CONCURRENCY=1)
    cancel = threading.Event()

    def gone_once_it_writes(text: str) -> None:
        cancel.set()  # as the web chat does when the browser is closed
    reply = container.coach.ask(QUESTION, gone_once_it_writes, cancel)
    record = last_exchange(container)
    assert record.outcome in {"cancelled"} | CHECKED  # cancelled, unless it was done before the first look
    assert reply.mode == "extractive" or record.outcome == "answered"
    assert idle(server)


def test_a_server_killed_while_answering_gives_the_quoted_answer(tmp_path, embedder):
    with model_server(tmp_path / "killed.log") as (url, process):
        container = build(tmp_path, embedder, url, LLM_BUDGET_S=6, LLM_MAX_TOKENS=4000)

        def kill_once_it_writes(text: str) -> None:
            if process.poll() is None:
                process.kill()
        reply = container.coach.ask(QUESTION, kill_once_it_writes)
    assert reply.mode == "extractive" and "not answering" in reply.notice
    assert_useful(reply, container)
    assert last_exchange(container).outcome == "unavailable"
