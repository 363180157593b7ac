"""bench.load's own parts: the TCP proxy it cuts the database with, and the mock model's answers."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timezone

import httpx
import pytest

from bench.load import Question, recovered
from bench.load_mocks import StallableModel, quoted_answer
from bench.proxy import TcpProxy
from coach.generation import render_passages
from kernel.ports import Passage


@pytest.fixture
def echo_server():
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return

            def echo(c=connection) -> None:
                with c:
                    while data := c.recv(1024):
                        c.sendall(data)

            threading.Thread(target=echo, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def talk(port: int, text: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(text)
        return connection.recv(1024)


def test_the_proxy_cuts_refuses_and_accepts_again(echo_server):
    proxy = TcpProxy("127.0.0.1", echo_server)
    try:
        assert talk(proxy.port, b"hello") == b"hello"
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        held.sendall(b"x")
        assert held.recv(10) == b"x"
        assert proxy.refuse() == 1  # the held connection is dropped
        assert held.recv(10) == b""  # the client sees it closed
        held.close()
        with pytest.raises(ConnectionRefusedError):
            talk(proxy.port, b"refused")
        proxy.accept()
        assert talk(proxy.port, b"again") == b"again"  # the same port
        started = time.monotonic()
        proxy.cut(refuse_s=0.3)
        assert time.monotonic() - started >= 0.3 and talk(proxy.port, b"back") == b"back"
        assert proxy.cuts == 2
    finally:
        proxy.close()


def test_the_mock_model_quotes_the_first_passage_and_stalls_when_told():
    passages = [Passage(chunk_id="c1", source_id="s1", source_key="faq.txt", title="Expenses FAQ", doc_type="text",
                        text="Q5. What is the mileage rate?\nA. In the Netherlands EUR 0.23 per km. Your commute "
                        "is never paid.", locator={}, where="", link="", updated_at=datetime.now(timezone.utc),
                        audience=("everyone",), score=1.0, dense=None, keyword=None)]
    system = "Rules...\n\nPassages:\n" + render_passages(passages)
    assert quoted_answer(system) == "In the Netherlands EUR 0.23 per km. [1]"
    assert quoted_answer("no passages here") == "NOT_COVERED"
    model = StallableModel(word_delay=0)
    try:
        body = {"model": "m", "messages": [{"role": "system", "content": system}, {"role": "user", "content": "q"}]}
        answer = httpx.post(model.base_url + "/chat/completions", json=body, timeout=5).json()
        assert answer["choices"][0]["message"]["content"].endswith("[1]")
        model.stall()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(model.base_url + "/chat/completions", json=body, timeout=0.5)
        assert model.stalled_requests == 1
    finally:
        model.close()


def test_recovered_is_the_first_of_a_streak_of_normal_answers():
    def q(i: int, sent: float, latency: float | None) -> Question:
        question = Question(i, "web", "answerable", "?", "l", "c", sent_at=sent)
        question.answered_at = None if latency is None else sent + latency
        return question

    window = [q(1, 10.5, None), q(2, 11, 9.0), q(3, 12, 1.0), q(4, 13, 1.0), q(5, 14, 1.0), q(6, 15, 8.0),
              q(7, 16, 1.0), q(8, 17, 1.0), q(9, 18, 1.0)]
    assert recovered(window, [], 10, 30, normal_s=4, streak=3) == 2.0
    assert recovered(window, [{"at": 13.5}], 10, 30, normal_s=4, streak=3) == 6.0  # an error inside the first streak
    assert recovered(window, [], 10, 30, normal_s=4, streak=4) is None


def test_the_slack_ledger_counts_answers_apologies_and_duplicates_from_the_mock_api_record():
    from bench.load import Balancer, Run, SlackLedger, outcome
    from tests.fakes.slack_api import Call, SlackAPI

    api = SlackAPI()
    try:
        run = Run(None, api, Balancer([]), None)
        asked = {}
        for n, text in enumerate(["How do I claim?", "What is the mileage rate?", "Lost?", "Pizza?"]):
            q = run.new_question("slack", "answerable", text, f"slack:T:U{n}", f"DL{n:06d}")
            q.sent_at, q.ts = time.monotonic(), f"1.{n}"
            asked[text] = q
        ledger = SlackLedger(api, run)
        ledger.need_owner = {"a" * 32: ("slack:T:U0", "How do I claim?"), "b" * 32: ("slack:T:U1",
                             "What is the mileage rate?"), "c" * 32: ("slack:T:U1", "What is the mileage rate?")}

        def blocks(need: str) -> list[dict]:
            return [{"type": "context_actions", "elements": [{"type": "feedback_buttons",
                     "positive_button": {"value": f"helpful:{need}"}}]}]

        time.sleep(0.01)
        api.calls += [  # the first answered once (its stream stopped, then edited into the answer: one message)
            Call("chat.stopStream", {"channel": "DL000000", "ts": "9.1", "blocks": blocks("a" * 32)}),
            Call("chat.update", {"channel": "DL000000", "ts": "9.1", "text": "x", "blocks": blocks("a" * 32)}),
            # the second answered twice, by two replicas
            Call("chat.stopStream", {"channel": "DL000001", "ts": "9.2", "blocks": blocks("b" * 32)}),
            Call("chat.postMessage", {"channel": "DL000001", "text": "x", "blocks": blocks("c" * 32)}),
            # the third apologised for
            Call("chat.postMessage", {"channel": "DL000002", "text": "Sorry, something went wrong while I was "
                                      "answering. Please ask again in a minute.", "blocks": []}),
        ]  # and the fourth: nothing
        ledger.update()
        assert outcome(run.questions) == {"questions": 4, "answered": 2, "apologised": 1, "lost": 1,
                                          "duplicates": 1, "stored_twice": 1}
        assert len(asked["How do I claim?"].answer_keys) == 1
        assert len(asked["What is the mileage rate?"].answer_keys) == 2
    finally:
        api.close()
