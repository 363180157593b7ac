"""What an operator's load balancer and Prometheus see: /readyz turns unready when the database is unreachable
(PostgreSQL behind a proxy the test cuts) and ready again when it returns, the app keeps answering after its
connections were dropped; /metrics counts questions; every response carries its request id; the worker serves
the same probes on its own port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from coach.bootstrap import bootstrap
from connectors.server import create_app
from tests.conftest import free_port, make_settings, write_content
from bench.proxy import TcpProxy


@pytest.fixture
def proxied_postgres(postgres_url):
    where = urlsplit(postgres_url)
    proxy = TcpProxy(where.hostname, where.port or 5432)
    yield postgres_url.replace(f"{where.hostname}:{where.port or 5432}", f"127.0.0.1:{proxy.port}", 1), proxy
    proxy.close()


def ask(http: TestClient, question: str):
    return http.post("/api/ask", json={"question": question})


def test_readyz_follows_the_database_and_the_app_answers_again_after_its_connections_were_cut(
        tmp_path, embedder, proxied_postgres):
    url, proxy = proxied_postgres
    container = bootstrap(make_settings(tmp_path, DATABASE_URL=url), embedder=embedder)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    with TestClient(create_app(container)) as http:
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"], ready.json()
        assert ready.json()["checks"]["vector_store"]["ok"] and "model" not in ready.json()["checks"]
        assert ask(http, "How do I report phishing?").json()["citations"]
        proxy.refuse()
        unready = http.get("/readyz")
        assert unready.status_code == 503 and unready.json()["status"] == "unready"
        assert not unready.json()["checks"]["database"]["ok"] and unready.json()["checks"]["vector_store"]["ok"]
        assert http.get("/healthz").status_code == 200  # the process is up: no reason to restart it
        proxy.accept()
        assert http.get("/readyz").status_code == 200
        again = ask(http, "How do I report phishing?")  # the pool's dropped connections were replaced
        assert again.status_code == 200 and again.json()["citations"]


def test_metrics_count_questions_and_every_response_names_its_request(tmp_path, embedder):
    container = bootstrap(make_settings(tmp_path), embedder=embedder)
    container.knowledge.ingest([write_content(tmp_path / "content")])
    with TestClient(create_app(container)) as http:
        before = http.get("/metrics").text
        asked = ask(http, "How do I report phishing?")
        assert len(asked.headers["x-request-id"]) == 16
        kept = http.get("/healthz", headers={"X-Request-Id": "lb-7f3a"})
        assert kept.headers["x-request-id"] == "lb-7f3a"  # a load balancer's id is kept...
        assert http.get("/healthz", headers={"X-Request-Id": "x\" onload=1"}).headers["x-request-id"] != "x\" onload=1"
        after = http.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    assert _value(after.text, 'coach_questions_total{outcome="answered",platform="web"}') == \
        _value(before, 'coach_questions_total{outcome="answered",platform="web"}') + 1
    assert 'coach_answer_seconds_bucket{le="60.0",platform="web"}' in after.text
    assert 'coach_http_requests_total{method="POST",route="/api/ask",status="2xx"}' in after.text
    assert 'coach_queue_depth{queue="inbox"} 0.0' in after.text
    assert "phishing" not in after.text  # labels are closed sets: no question, no learner


def _value(exposition: str, series: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_worker_serves_its_probes_and_says_whether_it_dispatches(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "DATABASE_", "XAPI_"))}
    env |= {"COACH_DATA_DIR": str(tmp_path / "data"), "COACH_WORKER_PORT": str(port), "COACH_LOAD_SAMPLES": "false",
            "COACH_EMBEDDING_MODEL": "minilm", "COACH_LOG_FORMAT": "json"}
    worker = subprocess.Popen([sys.executable, "-m", "coach", "worker"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, ready = time.monotonic() + 90, None
        while time.monotonic() < deadline and worker.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.json().get("worker") == "dispatching":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, worker.poll() and worker.stdout.read()
        assert ready.json()["worker"] == "dispatching" and ready.json()["checks"]["database"]["ok"]
        assert "coach_queue_depth" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output


def test_a_slack_questions_request_id_follows_it_into_the_core_and_the_model_call(tmp_path, embedder, caplog):
    """The id the app gave the Slack request (sent back in X-Request-Id) is on the core's log line for that question
    and on its call to the model server; the JSON log line carries it, and not what was asked."""
    import io
    import json
    import logging

    from kernel.logs import JsonFormatter, RequestId
    from tests.fakes.openai_api import FakeOpenAI, Scripted
    from tests.fakes.slack_api import SlackAPI
    from tests.integration.slack_helpers import as_message_event, event_body
    from tests.integration.test_slack import Slack, start

    slack_api, lines = SlackAPI(), io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(RequestId())
    handler.setFormatter(JsonFormatter())
    logging.getLogger("coach.coach").addHandler(handler)
    try:
        with FakeOpenAI() as model:
            model.chat = [Scripted("Forward it to the security team [1].")]
            http, container = start(tmp_path, embedder, slack_api, LLM_BASE_URL=model.base_url, LLM_API_KEY="sk")
            with http, caplog.at_level(logging.INFO, logger="coach.coach"):
                slack = Slack(slack_api, http, container)
                question = slack_api.post_user_message("D0DM", "U1", "How do I report phishing?")
                sent = slack.send(event_body(as_message_event(question, "im")))
                slack.wait_answers()
            rid = sent.headers["x-request-id"]
            chats = [r for r in model.requests if r["path"].endswith("/chat/completions")]
    finally:
        logging.getLogger("coach.coach").removeHandler(handler)
        slack_api.close()
    assert chats and {r["request_id"] for r in chats} == {rid}
    [line] = [json.loads(text) for text in lines.getvalue().splitlines() if "question" in text]
    assert line["request_id"] == rid and line["outcome"] == "answered" and line["platform"] == "slack"
    assert "phishing" not in lines.getvalue()


def test_readyz_checks_the_model_endpoint_when_one_is_configured(tmp_path, embedder):
    from tests.fakes.openai_api import FakeOpenAI

    model = FakeOpenAI().__enter__()
    container = bootstrap(make_settings(tmp_path, LLM_BASE_URL=model.base_url,
                                             LLM_API_KEY="sk-ready-secret"), embedder=embedder)
    with TestClient(create_app(container)) as http:
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["model"]["ok"]
        assert model.requests == []  # it listed the models: no completion was asked for
        model.__exit__(None, None, None)  # the model server goes away
        unready = http.get("/readyz")
    assert unready.status_code == 503 and not unready.json()["checks"]["model"]["ok"]
    assert unready.json()["checks"]["database"]["ok"] and "sk-ready-secret" not in unready.text
