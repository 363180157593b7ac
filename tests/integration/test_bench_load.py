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
