"""With a language model configured: written answers through the real openai client against a loopback server,
streaming, the model's own "not covered", retries, and the extractive fallback on failure or malformed output."""

from __future__ import annotations

import pytest
from sqlmodel import select

from coach.bootstrap import bootstrap
from coach.messages import IncomingMessage
from kernel.store import session
from coach.store.models import ModelExchange
from tests.conftest import make_settings, write_content
from tests.fakes.openai_api import FakeOpenAI, Scripted


@pytest.fixture
def api():
    with FakeOpenAI() as server:
        yield server


def build(tmp_path, embedder, api, budget=5.0):
    settings = make_settings(tmp_path, LLM_BASE_URL=api.base_url, LLM_API_KEY="sk-test", LLM_MODEL="coach-model",
                             LLM_BUDGET_S=budget, COACH_COMPANY_NAME="Northwind Loom")
    container = bootstrap(settings, embedder=embedder)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    return container


def exchanges(container) -> list[ModelExchange]:
    with session(container.engine) as db:
        return list(db.exec(select(ModelExchange).order_by(ModelExchange.id)).all())


QUESTION = IncomingMessage(learner_id="U1", text="How do I report a phishing e-mail?")


def test_streamed_answer_with_citations_and_a_recorded_exchange(tmp_path, embedder, api):
    api.chat = [Scripted("Forward it to security@example.com within one hour [1].")]
    container = build(tmp_path, embedder, api)
    partials: list[str] = []
    decision, reply = container.answerer.answer(QUESTION, on_partial=partials.append)

    assert reply.mode == "generated" and reply.text == "Forward it to security@example.com within one hour [1]."
    assert [c.n for c in reply.citations] == [1] and reply.citations[0].title == "How to report phishing"
    assert len(partials) > 3 and partials[-1] == reply.text  # streamed word by word
    chat = [r for r in api.requests if r["path"] == "/v1/chat/completions"][0]
    assert chat["authorization"] == "Bearer sk-test" and chat["body"]["model"] == "coach-model" and chat["body"]["stream"]
    system = chat["body"]["messages"][0]["content"]
    assert "Northwind Loom" in system and "<passage>" in system and "NOT_COVERED" in system
    assert "Answer in English" in system  # the learner's language, whatever the passages' (prompts/answer.v2.md)
    assert "merit budget" not in system  # restricted content never reaches the prompt of a non-manager
    [record] = exchanges(container)
    assert (record.template, record.template_version, record.model, record.outcome) == \
        ("answer", "v2", "coach-model", "answered")
    assert record.chunk_ids == [p.chunk_id for p in decision.passages] and record.input_tokens == 120
    assert record.output_tokens == 8  # as the server reported it


def test_the_model_may_decline(tmp_path, embedder, api):
    api.chat = [Scripted("NOT_COVERED")]
    container = build(tmp_path, embedder, api)
    reply = container.coach.ask(QUESTION)
    assert reply.abstained and "couldn't find" in reply.text
    assert exchanges(container)[-1].outcome == "declined"


def test_outages_are_retried_then_fall_back_to_quotes(tmp_path, embedder, api):
    api.chat = [Scripted(status=503), Scripted(status=429, retry_after="0.1"),
                Scripted("Forward it to security within one hour [1].")]
    container = build(tmp_path, embedder, api)
    assert container.answerer.ask(QUESTION).mode == "generated"  # two failures retried within the budget
    assert len([r for r in api.requests if r["path"] == "/v1/chat/completions"]) == 3

    api.chat = [Scripted(status=500)]
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and "not answering right now" in reply.notice and "[1]" in reply.text
    assert exchanges(container)[-1].outcome == "unavailable"


def test_a_slow_model_is_cut_off_within_the_budget(tmp_path, embedder, api):
    api.chat = [Scripted("too late [1]", delay=3.0)]
    container = build(tmp_path, embedder, api, budget=1.0)
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and reply.notice


def test_malformed_answers_are_never_shown(tmp_path, embedder, api):
    api.chat = [Scripted("Just forward it somewhere, I think [7].")]
    container = build(tmp_path, embedder, api)
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and "[7]" not in reply.text and reply.notice
    assert exchanges(container)[-1].outcome == "malformed"
