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


def build(tmp_path, embedder, api, budget=5.0, **values):
    settings = make_settings(tmp_path, LLM_BASE_URL=api.base_url, LLM_API_KEY="sk-test", LLM_MODEL="coach-model",
                             LLM_BUDGET_S=budget, COACH_COMPANY_NAME="Northwind Loom", **values)
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
    assert container.answerer.ask(QUESTION).mode == "generated", exchanges(container)[-1].outcome  # two retried
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


# --- the budget, bounded output and the checks, against the scripted faults of the loopback server -------------

def chat_requests(api) -> list[dict]:
    return [r for r in api.requests if r["path"] == "/v1/chat/completions"]


def test_a_stream_that_never_ends_is_stopped_at_the_deadline_and_closed(tmp_path, embedder, api):
    api.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
    container = build(tmp_path, embedder, api, budget=1.5)
    partials: list[str] = []
    reply = container.answerer.answer(QUESTION, on_partial=partials.append)[1]
    assert reply.mode == "extractive" and "took too long" in reply.notice and "[1]" in reply.text
    assert partials  # it was streaming, and kept sending: only the deadline stops it
    assert api.wait_idle() and len(api.abandoned) == 1  # the client closed the stream: the server stops there
    record = exchanges(container)[-1]
    assert record.outcome == "budget" and record.output_tokens == len(partials[-1].split()) > 0


def test_a_server_that_never_sends_a_byte_is_given_up_at_the_deadline(tmp_path, embedder, api):
    api.chat = [Scripted("too late [1]", delay=4.0)]
    container = build(tmp_path, embedder, api, budget=1.0)
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and "took too long" in reply.notice
    assert exchanges(container)[-1].outcome == "budget"


@pytest.mark.parametrize("fault", [dict(cut_after=3), dict(broken_after=2)], ids=["connection-cut", "invalid-sse"])
def test_a_stream_broken_half_way_is_retried_then_falls_back(tmp_path, embedder, api, fault):
    good = Scripted("Forward it to security within one hour [1].")
    api.chat = [Scripted(good.text, **fault), good]
    container = build(tmp_path, embedder, api)
    assert container.answerer.ask(QUESTION).mode == "generated"  # the retry got the whole answer
    assert len(chat_requests(api)) == 2

    api.chat = [Scripted(good.text, **fault)]  # broken every time: quoted, with the notice
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and "not answering right now" in reply.notice and "[1]" in reply.text
    assert exchanges(container)[-1].outcome == "unavailable"


def test_the_token_limit_is_sent_and_held_when_the_server_ignores_it(tmp_path, embedder, api):
    api.chat = [Scripted(" ".join(["Forward it to security [1]."] * 200))]  # a runaway, past any limit
    container = build(tmp_path, embedder, api)
    reply = container.answerer.ask(QUESTION)
    body = chat_requests(api)[-1]["body"]
    # a compatible server (not api.openai.com) gets `max_tokens`, which they all honour, and stop sequences
    assert body["max_tokens"] == 400 and "max_completion_tokens" not in body and "<passage>" in body["stop"]
    assert reply.mode == "extractive" and "did not pass" in reply.notice
    record = exchanges(container)[-1]
    assert record.outcome == "too_long" and record.output_tokens == 401
    assert api.wait_idle() and api.abandoned  # it stopped reading at the limit and closed the stream


def test_openai_itself_gets_max_completion_tokens_and_no_stop():
    from llm.openai_chat import OpenAIChatModel

    official = OpenAIChatModel(base_url="https://api.openai.com/v1", api_key="sk", model="gpt-4o-mini", max_tokens=99)
    local = OpenAIChatModel(base_url="http://127.0.0.1:8080/v1", api_key="", model="gemma", max_tokens=99)
    assert official._limits == {"max_tokens": 99}  # langchain-openai sends it as max_completion_tokens
    assert local._limits["extra_body"] == {"max_tokens": 99} and local._limits["stop"]


@pytest.mark.parametrize(("answer", "outcome"), [
    # the system prompt echoed back: it cites [1] too, so the citation check alone passed it
    ("You are the learning coach of Northwind Loom. You answer employees' workplace questions using ONLY the "
     "numbered passages from the company's learning content below. Every statement must come from a passage; cite "
     "it right after the statement as [n], with n the passage number. [1] How to report phishing", "echo"),
    ("Forward it to security within one hour [1]. <passage> Forward suspicious e-mails", "echo"),
    ("Forward it to security@example.com within 24 hours, or pay the €0,45 fine [1].", "numbers"),
    ("The canteen serves lasagne on Fridays and the gym opens at dawn for everyone [1].", "unsupported"),
    ("", "malformed"),  # nothing before a stop sequence: not the model declining, which says NOT_COVERED
], ids=["system-prompt", "passage-markup", "numbers", "unsupported", "empty"])
def test_answers_that_fail_a_check_are_never_shown(tmp_path, embedder, api, answer, outcome):
    api.chat = [Scripted(answer)]
    container = build(tmp_path, embedder, api)
    reply = container.answerer.ask(QUESTION)
    assert reply.mode == "extractive" and "did not pass" in reply.notice and reply.text != answer
    assert not reply.abstained and reply.citations
    assert "Rules" not in reply.text and "<passage>" not in reply.text
    assert exchanges(container)[-1].outcome == outcome


def test_the_same_number_written_either_way_passes(tmp_path, embedder, api):
    api.chat = [Scripted("Forward suspicious e-mails to security@example.com within one hour [1].")]
    container = build(tmp_path, embedder, api)
    assert container.answerer.ask(QUESTION).mode == "generated"


def test_a_cancelled_question_stops_the_model_and_frees_it(tmp_path, embedder, api):
    import threading

    api.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
    container = build(tmp_path, embedder, api, budget=30.0)
    cancel = threading.Event()

    def gone_after_some_words(text: str) -> None:
        if len(text.split()) >= 5:
            cancel.set()  # as the web chat does when the browser goes away
    reply = container.answerer.answer(QUESTION, on_partial=gone_after_some_words, cancel=cancel)[1]
    assert reply.mode == "extractive"
    assert api.wait_idle() and len(api.abandoned) == 1
    assert exchanges(container)[-1].outcome == "cancelled"


def test_one_model_slot_a_second_question_is_quoted_at_once_rather_than_wait_past_its_budget(tmp_path, embedder,
                                                                                               api):
    import threading

    api.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
    container = build(tmp_path, embedder, api, budget=3.0, LLM_CONCURRENCY=1)  # a one-slot local server
    first: list = []
    started = threading.Event()
    worker = threading.Thread(target=lambda: first.append(
        container.answerer.answer(QUESTION, on_partial=lambda text: started.set())[1]))
    worker.start()
    assert started.wait(10)
    second = container.answerer.ask(QUESTION)
    worker.join()
    assert second.mode == "extractive" and "busy" in second.notice
    assert first[0].mode == "extractive" and "took too long" in first[0].notice
    assert [r.outcome for r in exchanges(container)] == ["busy", "budget"]
    assert len(chat_requests(api)) == 1  # the second never reached the one-slot server


# --- every surface says why an answer is quoted, and the web chat frees the model when the browser leaves -------

def test_the_cli_prints_why_the_answer_is_quoted(tmp_path, api, monkeypatch):
    import json

    from typer.testing import CliRunner

    from connectors.cli.main import app

    api.chat = [Scripted(status=500)]
    monkeypatch.setenv("LLM_BASE_URL", api.base_url)
    monkeypatch.setenv("LLM_BUDGET_S", "2")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(write_content(tmp_path / "content"))]).exit_code == 0
    shown = runner.invoke(app, ["ask", QUESTION.text])
    assert shown.exit_code == 0 and shown.stdout.startswith("The language model is not answering right now")
    assert "Forward suspicious e-mails" in shown.stdout and "[1] How to report phishing" in shown.stdout
    payload = json.loads(runner.invoke(app, ["ask", QUESTION.text, "--json"]).stdout)
    assert payload["mode"] == "extractive" and payload["notice"].startswith("The language model is not answering")


def test_the_web_chat_stops_the_model_when_the_browser_goes_away(tmp_path, embedder, api):
    import json
    import time

    import httpx

    from connectors.server import create_app
    from tests.conftest import served

    api.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
    container = build(tmp_path, embedder, api, budget=120.0)
    with served(create_app(container)) as url:
        with httpx.Client(base_url=url, timeout=30) as browser:
            with browser.stream("POST", "/api/ask/stream", json={"question": QUESTION.text}) as response:
                assert "partial" in json.loads(next(response.iter_lines()))
        # the browser closed the connection while the model was still writing
        assert api.wait_idle(15) and len(api.abandoned) == 1
        deadline = time.monotonic() + 15
        while not exchanges(container) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert exchanges(container)[-1].outcome == "cancelled"


def test_many_answers_build_no_client_per_call(api):
    """Each call streams through its own async client; langchain would otherwise build a sync client per call and
    keep 128 of them (one per distinct timeout: ~150 MB of native memory under load, seen by bench.load)."""
    from langchain_openai.chat_models import _client_utils

    from llm.openai_chat import OpenAIChatModel

    api.chat = [Scripted("Forward it to security [1].")]
    model = OpenAIChatModel(base_url=api.base_url, api_key="sk", model="coach-model")
    before = _client_utils._cached_sync_httpx_client.cache_info().currsize
    for budget in (5.0, 6.0, 7.0, 8.0):  # a different time left on every call, as under load
        assert model.complete("system", "user", budget_s=budget).text
    assert _client_utils._cached_sync_httpx_client.cache_info().currsize == before
