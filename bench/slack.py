"""Slack benchmark: how fast /slack/events acknowledges under load, and how long a question takes to its answer.

    python -m bench.slack [--events 50]

Runs `coach serve` in its own process (sample content, extractive answers) against the mock Slack Web API, fires N
correctly signed DM events at once (each also retried once, as Slack does after a slow ack), and measures: the ack
latency of every request (p50/p99), the time from sending an event to the end of its answer (`chat.stopStream` of
Slack's text stream; p50/p95), and how many questions were answered more than once. Its bare baseline in the same
run: a Bolt app that only acks, served by uvicorn in its own process, fired the same way. Prints progress on stderr
and one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np
from fastapi import FastAPI, Request

from tests.fakes.slack_api import SlackAPI
from tests.integration.slack_helpers import SECRET, as_message_event, event_body, signed_headers


ANSWERED = "chat.stopStream"  # a DM's answer ends its stream


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """A server in its own process (the load generator must not share its interpreter); waits until it answers."""
    process = subprocess.Popen(command, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise SystemExit(f"the server stopped: {process.stderr.read().decode()[-2000:]}")
    raise SystemExit("the server did not start within 3 minutes")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def fire(url: str, bodies: list[str]) -> list[float]:
    """All bodies at once (and each once more as Slack's retry); returns each request's ack time in ms."""
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=len(bodies) * 2)) as client:
        async def one(body: str, retry: bool) -> float:
            headers = signed_headers(body, content_type="application/json")
            if retry:
                headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            started = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 200, response.text
            return (time.perf_counter() - started) * 1000

        acks = await asyncio.gather(*[one(b, False) for b in bodies])
        await asyncio.gather(*[one(b, True) for b in bodies])  # Slack's retries, once the first wave is in
        return acks


def bare_bolt_app() -> FastAPI:
    """`uvicorn --factory bench.slack:bare_bolt_app`, with BENCH_SLACK_API_URL set."""
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp

    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-bare", base_url=os.environ["BENCH_SLACK_API_URL"])
    bolt = AsyncApp(signing_secret=SECRET, client=client)

    @bolt.event("message")
    async def nothing():
        return None

    handler, app = AsyncSlackRequestHandler(bolt), FastAPI()
    app.get("/healthz")(lambda: {"status": "ok"})

    @app.post("/slack/events")
    async def events(request: Request):
        return await handler.handle(request)

    return app


def stats(values: list[float], *points: int) -> dict:
    return {f"p{p}": round(float(np.percentile(values, p)), 1) for p in points}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    api = SlackAPI()
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        log("starting `coach serve` (loads the sample content on its first start)…")
        server = serve([sys.executable, "-m", "coach", "serve", "--port", str(port)], {
            "COACH_DATA_DIR": data, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.base_url, "COACH_QUESTIONS_PER_MINUTE": "0", "DATABASE_URL": ""}, port)
        url = f"http://127.0.0.1:{port}/slack/events"

        questions = ["How do I report a phishing e-mail?", "How do I claim travel expenses?",
                     "What should a good feedback conversation look like?", "How many days of leave do I get?"]

        def batch(label: str) -> tuple[list[str], dict[str, float]]:
            bodies, sent = [], {}
            for i in range(args.events):
                channel = f"D{label}{i:04d}"
                message = api.post_user_message(channel, f"U{label}{i:04d}", questions[i % len(questions)])
                bodies.append(event_body(as_message_event(message, "im")))
                sent[channel] = time.monotonic()
            return bodies, sent

        log("warming up…")
        asyncio.run(fire(url, batch("W")[0][:2]))
        api.wait_for(lambda calls: len([c for c in calls if c.method == ANSWERED]) >= 2, timeout=60)
        log(f"firing {args.events} signed events at once, each with a retry…")
        bodies, sent = batch("B")
        started = time.monotonic()
        acks = asyncio.run(fire(url, bodies))
        def answered(calls) -> set[str]:
            return {c.args["channel"] for c in calls if c.method == ANSWERED and c.args["channel"] in sent}
        api.wait_for(lambda calls: len(answered(calls)) >= len(sent), timeout=300)
        time.sleep(1.0)  # a doubled answer would arrive now
        finals = [c for c in api.of(ANSWERED) if c.args["channel"] in sent]
        answer_ms = [(c.at - sent[c.args["channel"]]) * 1000 for c in finals]
        duplicates = len(finals) - len({c.args["channel"] for c in finals})
        log(f"answered {len(sent)} questions in {time.monotonic() - started:.1f} s")
        server.terminate()
        server.wait(timeout=30)

        port = free_port()
        bare_server = serve([sys.executable, "-m", "uvicorn", "--factory", "bench.slack:bare_bolt_app", "--port",
                             str(port), "--log-level", "warning"], {"BENCH_SLACK_API_URL": api.base_url}, port)
        bare_url = f"http://127.0.0.1:{port}/slack/events"
        asyncio.run(fire(bare_url, batch("X")[0][:2]))
        bare = asyncio.run(fire(bare_url, batch("Y")[0]))
        bare_server.terminate()
        bare_server.wait(timeout=30)
    api.close()

    ack, bare_ack = stats(acks, 50, 99), stats(bare, 50, 99)
    print(json.dumps({
        "events": args.events, "ack_ms": ack, "answer_ms": stats(answer_ms, 50, 95), "duplicates": duplicates,
        "baseline": {"bare_bolt_ack_ms": bare_ack,
                     "ratio_p50": round(ack["p50"] / max(bare_ack["p50"], 0.01), 2),
                     "ratio_p99": round(ack["p99"] / max(bare_ack["p99"], 0.01), 2)},
    }))


if __name__ == "__main__":
    main()
