"""Load and fault benchmark: the whole scaled-out topology on this machine, under load, while its parts fail.

    python -m bench.load [--seconds 240] [--rate 1.0] [--seed 21] [--embedding-model e5] [--drain 60]
                         [--lease 10] [--budget 5] [--no-faults] [--baseline-rounds 2]

Topology (bench/load_topology.py): a fresh database `coach_load_<pid>` on the local PostgreSQL server, reached only
through a loopback TCP proxy the bench controls (bench/proxy.py); `chroma run` on its own port and folder; two
`coach serve` replicas (same DATABASE_URL and CHROMA_HOST, own data folders; the first loads the sample content,
then the second starts); one `coach worker`; the mock Slack Web API of tests/fakes/slack_api.py recording every call;
a mock OpenAI-compatible model (bench/load_mocks.py) that quotes its prompt's first passage, so answers go through the
model path and pass the coach's checks, and that can be told to stall. The driver is the load balancer: round robin,
and like a real one it sends a request to the other replica when one refuses the connection (counted as
`refused_rerouted`, not as an error: the client never sees it).

Load: conversations start at `--rate` a second (Poisson arrivals), each a new simulated employee, half in the web
chat (`POST /api/ask/stream` with its own learner cookie), half as signed Slack DM events (v0 HMAC over
`v0:ts:body`, a unique event_id and message ts each). A conversation is an answerable question from the sample
content (English or Dutch), or an off-topic one (the coach should abstain); some answerable ones get a follow-up in
the same thread / conversation once the first is answered. Slack's retries as Slack does them: an ack that fails
(5xx, connection error) or takes more than 3 s is sent again with `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`, up to
3 retries (1, 10 and 30 s later: Slack's schedule, compressed), through the balancer, so to the other replica. A web
employee whose request fails (5xx, connection dropped, no final line) asks again, up to 3 tries in all, as the page
tells them to.

Faults, one after another after a warm-up, evenly spaced: (1) `replica_killed`: one replica SIGKILLed while Slack
answers are in flight on it (those it had acknowledged and not answered are listed) and started again at once;
(2) `chroma_restarted`: the Chroma server stopped (SIGTERM) and started again on the same port and folder;
(3) `postgres_cut`: every connection through the database proxy dropped, new ones refused for `--db-outage` seconds,
then accepted; (4) `model_stalled`: the model accepts requests and sends nothing for `--stall` seconds (longer than
LLM_BUDGET_S = `--budget`): the coach must answer anyway, with its quoted fallback.

Counting, per question (after the load stops, the bench waits until every question has an outcome or `--drain`
seconds pass, then `lease * 1.5` seconds more for late duplicates):
- `answered`: a final answer reached the employee. Slack: a `chat.stopStream`, `chat.update` or `chat.postMessage`
  in its DM whose blocks carry a need id the coach logged for this question (every answer and abstention carries
  one on its buttons; the need row, read from the database, names the learner and the question). Web: the stream's
  final `{"reply"}` line. Abstentions count as answered (`abstained` says how many, by kind).
- `apologised`: no answer, but the coach's apology was posted (Slack: "Sorry, something went wrong…", web: the
  stream's `{"error"}` line). Acceptable, counted apart.
- `lost`: neither, by the end. `duplicates`: questions that got more than one final answer (distinct Slack
  messages; web: distinct replies shown). `stored_twice`: questions with more than one need row in the database
  (answered twice inside the coach, whether or not the employee saw both).
- `errors`: what a client saw: HTTP 5xx, connection errors and resets, Slack acks over 3 s, web streams cut before
  their final line. Counted per fault window (from a fault's start to the next one's; the last one to the end):
  errors by when they happened, questions by when their outcome came (by their send when none came), so a question
  in flight when a fault began counts with that fault. `steady`: the questions settled before the first fault.
- latency: from the question's first send to its first final answer (answered questions only).
- `recovered_s` of a fault: from the fault's start to the send of the first question (sent after the fault began,
  within its window) that begins `--streak` (5) questions in a row, by send time, all answered (not apologised, not
  lost) within `normal_s`, with no client error from its send until the last of them was answered.
  `normal_s` = min(LLM_BUDGET_S, max(2 s, 2 x the p95 latency of the questions sent in the warm-up's second half)),
  so a quoted fallback after the model's budget ran out is not normal. null: not recovered within its window.
- RSS growth per process (VmRSS of the process tree) from the end of the warm-up to the end (a process started
  again: from when it was up again).
Baseline in the same run, first: one `coach serve` on the embedded defaults (SQLite, embedded Chroma, same model and
mock LLM) answering the same conversations one at a time through the same web endpoint: p50/p95/p99 and the ratios.

Progress on stderr; one JSON object as the last line of stdout. Everything started is stopped, the temporary folders
removed and the database dropped, also on failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.load_mocks import StallableModel
from bench.load_topology import PG_HOST, PG_PORT, Server, Topology, free_port, log
from tests.fakes.slack_api import TEAM, SlackAPI
from tests.integration.slack_helpers import SECRET, as_message_event, event_body, signed_headers

RETRY_DELAYS_S = (1.0, 10.0, 30.0)  # Slack: retries nearly at once, after a minute, after five; compressed
ACK_TIMEOUT_S = 3.0
WEB_TRIES = 3
WEB_TIMEOUT_S = 120.0
APOLOGIES = ("Sorry, something went wrong while I was answering", "Sorry, er ging iets mis terwijl ik antwoordde")
NEED_ID = re.compile(r"\b[0-9a-f]{32}\b")

# (kind, question, follow-up or None): the sample content's own topics, in English and Dutch, and off-topic ones
SCRIPTS = [
    ("answerable", "How do I submit an expense claim?", "How long do I have to submit it?"),
    ("answerable", "What is the mileage rate?", "And what do I get for a bicycle?"),
    ("answerable", "How do I report a phishing e-mail?", "What if I already clicked the link?"),
    ("answerable", "How much training budget do I have?", "Can I spend it on a conference?"),
    ("answerable", "How do I give feedback to a colleague?", None),
    ("answerable", "What should I do in my first week?", None),
    ("answerable", "I lost a receipt. What now?", None),
    ("answerable", "wat is het kilometertarief?", "en voor hoeveel werkdagen per jaar?"),
    ("answerable", "mag ik thuiswerken vanuit Rotterdam?", "hoe zit het met parkeren bij het kantoor?"),
    ("answerable", "hoe geef ik feedback aan een collega?", None),
    ("offtopic", "What is the best pizza place in Rome?", None),
    ("offtopic", "Who will win the next football World Cup?", None),
    ("offtopic", "Wat voor weer wordt het morgen in Amsterdam?", None),
]
OFFTOPIC_SHARE, FOLLOW_UP_SHARE = 0.2, 0.6


def now() -> float:
    return time.monotonic()


@dataclass
class Question:
    id: int
    channel: str  # web | slack
    kind: str  # answerable | followup | offtopic
    text: str
    learner: str  # the coach's learner id
    conversation: str  # slack: the DM channel; web: the learner cookie
    sent_at: float = 0.0
    ts: str = ""  # slack: the message's ts
    thread: str = ""  # slack: the thread's root ts
    event_id: str = ""
    acked_by: str = ""  # slack: the replica whose 200 was the ack
    acked_at: float = 0.0
    ack_failed: bool = False  # slack: every try failed
    tries: int = 0
    answered_at: float | None = None
    apologised_at: float | None = None
    answer_keys: set = field(default_factory=set)  # distinct final messages (slack) / replies (web)
    need_ids: set = field(default_factory=set)
    abstained: bool = False
    notice: bool = False  # the reply carried a notice (the quoted fallback says the model was not used)
    mode: str = ""
    replicas: list = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.answered_at is not None or self.apologised_at is not None or self.ack_failed

    @property
    def latency_s(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.sent_at


class NoBackend(Exception):
    pass


class Balancer:
    """Round robin over the replicas; a refused connection goes to the next one (and is counted)."""

    def __init__(self, replicas: list[Server]) -> None:
        self.replicas, self.next = replicas, 0
        self.rerouted: list[tuple[float, str]] = []

    def order(self, avoid: str = "") -> list[Server]:
        first = self.next
        self.next = (self.next + 1) % len(self.replicas)
        order = self.replicas[first:] + self.replicas[:first]
        return [s for s in order if s.name != avoid] + [s for s in order if s.name == avoid]

    async def send(self, client: httpx.AsyncClient, build, *, stream: bool = False, avoid: str = ""):
        """`build(base_url)` makes the request; returns (replica name, response). `avoid`: the replica that just
        failed this request goes last (a retry goes to the other one while it takes connections)."""
        for server in self.order(avoid):
            try:
                return server.name, await client.send(build(server.url), stream=stream)
            except httpx.ConnectError:
                self.rerouted.append((now(), server.name))
            except httpx.HTTPError as exc:
                exc.replica = server.name  # which replica failed it, for the error count and the retry
                raise
        raise NoBackend("every replica refused the connection")


class Run:
    def __init__(self, args, api: SlackAPI, lb: Balancer, rng: random.Random) -> None:
        self.args, self.api, self.lb, self.rng = args, api, lb, rng
        self.questions: list[Question] = []
        self.errors: list[dict] = []
        self.seq = 0
        self.stop_load = False
        self.faults: list[dict] = []
        self.readiness: list[tuple[float, str, int | None]] = []
        self.rss_timeline: list[tuple[float, dict]] = []

    def error(self, q: Question, kind: str, replica: str, detail: str = "") -> None:
        self.errors.append({"at": now(), "channel": q.channel, "kind": kind, "replica": replica,
                            "question": q.id, "detail": detail[:200]})

    def new_question(self, channel: str, kind: str, text: str, learner: str, conversation: str) -> Question:
        self.seq += 1
        q = Question(self.seq, channel, kind, text, learner, conversation)
        self.questions.append(q)
        return q

    # --- the web chat ------------------------------------------------------------------------------------------

    async def web_ask(self, client: httpx.AsyncClient, q: Question) -> None:
        q.sent_at = now()
        body = json.dumps({"question": q.text})
        for attempt in range(WEB_TRIES):
            q.tries += 1
            if attempt:
                await asyncio.sleep(2.0)

            def build(base: str):
                return client.build_request("POST", base + "/api/ask/stream", content=body, timeout=WEB_TIMEOUT_S,
                                            headers={"Content-Type": "application/json",
                                                     "Cookie": f"coach_learner={q.conversation}"})

            replica = "?"
            try:
                replica, response = await self.lb.send(client, build, stream=True)
                q.replicas.append(replica)
                try:
                    if response.status_code >= 500:
                        self.error(q, f"http_{response.status_code}", replica)
                        continue
                    if response.status_code != 200:
                        self.error(q, f"http_{response.status_code}", replica, (await response.aread()).decode())
                        continue
                    final = None
                    async for line in response.aiter_lines():
                        if line.strip():
                            item = json.loads(line)
                            if "reply" in item or "error" in item:
                                final = item
                finally:
                    await response.aclose()
            except NoBackend as exc:
                self.error(q, "no_backend", "-", str(exc))
                continue
            except (httpx.TransportError, json.JSONDecodeError) as exc:
                self.error(q, "connection", getattr(exc, "replica", replica), f"{type(exc).__name__}: {exc}")
                continue
            if final is None:
                self.error(q, "stream_cut", replica)
                continue
            if "error" in final:
                q.apologised_at = q.apologised_at or now()
                return
            reply = final["reply"]
            q.answered_at = now()
            q.answer_keys.add(final.get("id"))
            q.need_ids.add(reply.get("need_id"))
            q.abstained, q.mode, q.notice = bool(reply.get("abstained")), reply.get("mode", ""), bool(
                reply.get("notice"))
            return

    async def web_conversation(self, client: httpx.AsyncClient, script) -> None:
        kind, text, follow_up = script
        cookie = f"web-{secrets.token_hex(16)}"
        q = self.new_question("web", kind, text, cookie, cookie)
        await self.web_ask(client, q)
        if follow_up and q.answered_at and self.rng.random() < FOLLOW_UP_SHARE and not self.stop_load:
            await asyncio.sleep(self.rng.uniform(1, 3))
            await self.web_ask(client, self.new_question("web", "followup", follow_up, cookie, cookie))

    # --- Slack -----------------------------------------------------------------------------------------------

    async def slack_send(self, client: httpx.AsyncClient, q: Question, message: dict) -> None:
        body = event_body(as_message_event(message, "im"), event_id=q.event_id)
        reason, replica = "", ""
        for n in range(1 + len(RETRY_DELAYS_S)):
            if n:
                await asyncio.sleep(RETRY_DELAYS_S[n - 1])
            q.tries += 1
            headers = signed_headers(body, content_type="application/json")
            if n:
                headers |= {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": reason}

            def build(base: str):
                return client.build_request("POST", base + "/slack/events", content=body, headers=headers,
                                            timeout=ACK_TIMEOUT_S)

            try:
                replica, response = await self.lb.send(client, build, avoid=replica if n else "")
                q.replicas.append(replica)
                if response.status_code == 200:
                    q.acked_by, q.acked_at = replica, now()
                    return
                self.error(q, f"http_{response.status_code}", replica, response.text)
                reason = "http_error"
            except httpx.TimeoutException as exc:
                replica = getattr(exc, "replica", "?")
                self.error(q, "ack_over_3s", replica)
                reason = "http_timeout"
            except NoBackend as exc:
                self.error(q, "no_backend", "-", str(exc))
                reason = "http_error"
            except httpx.TransportError as exc:
                replica = getattr(exc, "replica", "?")
                self.error(q, "connection", replica, f"{type(exc).__name__}: {exc}")
                reason = "http_error"
        q.ack_failed = True  # Slack gives up: the event is never delivered

    async def slack_conversation(self, client: httpx.AsyncClient, script, n: int) -> None:
        kind, text, follow_up = script
        user, channel = f"UL{n:06d}", f"DL{n:06d}"
        learner = f"slack:{TEAM}:{user}"
        q = self.new_question("slack", kind, text, learner, channel)
        message = self.api.post_user_message(channel, user, text)
        q.ts = q.thread = message["ts"]
        q.event_id = f"EvL{n:06d}a"
        q.sent_at = now()
        await self.slack_send(client, q, message)
        if not follow_up or self.rng.random() >= FOLLOW_UP_SHARE:
            return
        deadline = now() + 60
        while q.answered_at is None and not q.ack_failed and now() < deadline and not self.stop_load:
            await asyncio.sleep(0.2)
        if q.answered_at is None or self.stop_load:
            return  # the employee waits for an answer before asking on
        await asyncio.sleep(self.rng.uniform(1, 3))
        f = self.new_question("slack", "followup", follow_up, learner, channel)
        message = self.api.post_user_message(channel, user, follow_up, thread_ts=q.thread)
        f.ts, f.thread, f.event_id = message["ts"], q.thread, f"EvL{n:06d}b"
        f.sent_at = now()
        await self.slack_send(client, f, message)

    # --- the load ----------------------------------------------------------------------------------------------

    async def load(self, seconds: float, rate: float) -> None:
        tasks = []
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)  # a fresh connection per request
        async with httpx.AsyncClient(limits=limits) as client:
            started, n = now(), 0
            while now() - started < seconds:
                kind = "offtopic" if self.rng.random() < OFFTOPIC_SHARE else "answerable"
                script = self.rng.choice([s for s in SCRIPTS if s[0] == kind])
                n += 1
                if n % 2:
                    tasks.append(asyncio.create_task(self.web_conversation(client, script)))
                else:
                    tasks.append(asyncio.create_task(self.slack_conversation(client, script, n)))
                await asyncio.sleep(self.rng.expovariate(rate))
            self.stop_load = True
            log(f"load over: {len(self.questions)} questions asked; waiting for the conversations to finish")
            await asyncio.gather(*tasks)


class SlackLedger:
    """Reads the mock Slack API's record as it grows: which question each final message answers."""

    def __init__(self, api: SlackAPI, run: Run) -> None:
        self.api, self.run, self.seen = api, run, 0
        self.need_owner: dict[str, tuple[str, str]] = {}  # need id -> (learner, question)
        self.streams_started: dict[tuple[str, str], float] = {}
        self.streams_stopped: set[tuple[str, str]] = set()
        self.connection = None

    def _needs(self, ids: set[str]) -> None:
        import psycopg

        unknown = [i for i in ids if i not in self.need_owner]
        if not unknown:
            return
        if self.connection is None:  # straight to the server, not through the proxy the bench cuts
            self.connection = psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres",
                                              dbname=self.run.database, autocommit=True)
        rows = self.connection.execute("SELECT id, learner_id, question FROM need WHERE id = ANY(%s)",
                                       (unknown,)).fetchall()
        for need, learner, text in rows:
            self.need_owner[need] = (learner, text)

    def update(self) -> None:
        calls = self.api.calls[self.seen:]
        self.seen += len(calls)
        by_channel: dict[str, list[Question]] = {}
        for q in self.run.questions:
            if q.channel == "slack":
                by_channel.setdefault(q.conversation, []).append(q)
        finals = []
        for call in calls:
            channel = call.args.get("channel", "")
            if channel not in by_channel:
                continue
            if call.method == "chat.startStream":
                continue
            if call.method == "chat.stopStream":
                key = (channel, call.args.get("ts"))
                self.streams_stopped.add(key)
                text = (call.message or {}).get("text", "")
            elif call.method == "chat.update":
                key, text = (channel, call.args.get("ts")), call.args.get("text", "")
            elif call.method == "chat.postMessage":
                key, text = ("post", id(call)), call.args.get("text", "")
            else:
                continue
            ids = set(NEED_ID.findall(json.dumps(call.args.get("blocks") or [])))
            finals.append((call, channel, key, text, ids))
        self._needs(set().union(*(f[4] for f in finals)) if finals else set())
        for call, channel, key, text, ids in finals:
            asked = [q for q in by_channel[channel] if q.sent_at <= call.at]
            owners = [self.need_owner[i] for i in ids if i in self.need_owner]
            for need_id, (learner, question) in ((i, self.need_owner[i]) for i in ids if i in self.need_owner):
                q = next((q for q in asked if q.text == question), None) or (asked[-1] if asked else None)
                if q is None:
                    continue
                q.need_ids.add(need_id)
                q.answer_keys.add(key)
                if q.answered_at is None:
                    q.answered_at = call.at
                    q.notice = '"type": "context"' in json.dumps((call.args.get("blocks") or [])[:1])
                    q.abstained = "ask_human" in json.dumps(call.args.get("blocks") or []) and \
                        "feedback" not in json.dumps(call.args.get("blocks") or [])
            if not owners and any(a in text for a in APOLOGIES) and asked:
                q = asked[-1]
                q.apologised_at = q.apologised_at or call.at

    def started_streams(self) -> int:
        return len([c for c in self.api.of("chat.startStream") if c.args.get("channel", "").startswith("DL")])

    def open_streams(self) -> int:
        """Streams a replica started and never stopped (a half-written message left in the DM)."""
        started = 0
        for message in list(self.api.messages):
            if message.get("streaming_state") == "in_progress" and message["channel"].startswith("DL"):
                started += 1
        return started


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    return {f"p{p}": round(float(np.percentile(values, p)) * 1000) for p in (50, 95, 99)}


# --- the baseline: one embedded process, one question at a time ----------------------------------------------------

def baseline(args, model: StallableModel, work: Path) -> dict:
    if args.baseline_rounds <= 0:
        return {"questions": 0, "failures": 0, "rss_mb": None, **percentiles([])}
    port = free_port()
    env = {"COACH_DATA_DIR": str(work / "baseline"), "DATABASE_URL": "", "CHROMA_HOST": "",
           "COACH_EMBEDDING_MODEL": args.embedding_model, "LLM_BASE_URL": model.base_url, "LLM_API_KEY": "bench",
           "LLM_MODEL": "bench-model", "LLM_BUDGET_S": str(args.budget), "COACH_QUESTIONS_PER_MINUTE": "0",
           "COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS": "0", "COACH_RUN_WORKER": "false", "SLACK_SIGNING_SECRET": "",
           "SLACK_BOT_TOKEN": "", "PYTHONUNBUFFERED": "1"}
    server = Server("baseline", [sys.executable, "-m", "coach", "serve", "--port", str(port)], env, port, "/healthz",
                    work / "baseline.log").start()
    try:
        log(f"baseline: one embedded `coach serve` up in {server.wait_up(900):.1f} s; asking one at a time")
        times, failures = [], 0
        with httpx.Client(timeout=WEB_TIMEOUT_S) as client:
            for round_ in range(args.baseline_rounds + 1):  # round 0 warms up
                for kind, text, follow_up in SCRIPTS:
                    cookie = f"web-{secrets.token_hex(16)}"
                    for question in [text] + ([follow_up] if follow_up else []):
                        started = now()
                        response = client.post(server.url + "/api/ask/stream", json={"question": question},
                                               headers={"Cookie": f"coach_learner={cookie}"})
                        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
                        if response.status_code != 200 or not lines or "reply" not in lines[-1]:
                            failures += 1
                        elif round_:
                            times.append(now() - started)
        rss = server.rss()
    finally:
        server.stop()
    return {"questions": len(times), "failures": failures, "rss_mb": round(rss or 0, 1), **percentiles(times)}


# --- faults --------------------------------------------------------------------------------------------------------

async def kill_replica(run: Run, topology: Topology) -> dict:
    """The replica with the most Slack answers in flight (acknowledged, not answered), killed and started again."""
    deadline = now() + 15
    while True:
        flying = {s.name: [q for q in run.questions if q.channel == "slack" and q.acked_by == s.name
                           and q.answered_at is None and q.apologised_at is None] for s in topology.replicas()}
        name = max(flying, key=lambda k: len(flying[k]))
        if flying[name] or now() > deadline:
            break
        await asyncio.sleep(0.05)
    web_flying = len([q for q in run.questions if q.channel == "web" and q.answered_at is None
                      and q.apologised_at is None and q.replicas and q.replicas[-1] == name])
    in_flight = flying[name]
    log(f"  SIGKILL {name} with {len(in_flight)} Slack answers and ~{web_flying} web answers in flight")
    topology.servers[name].kill()
    killed_at = now()
    up_s = await asyncio.to_thread(topology.restart, name, kill=True)
    return {"replica": name, "slack_in_flight": [q.id for q in in_flight], "web_in_flight": web_flying,
            "killed_at": killed_at, "up_again_at": now(),
            "restarted_up_s": round(up_s, 1), "down_s": round(now() - killed_at, 1)}


async def restart_chroma(run: Run, topology: Topology) -> dict:
    stopped = now()
    up_s = await asyncio.to_thread(topology.restart, "chroma", kill=False)
    return {"down_s": round(now() - stopped, 1), "restarted_up_s": round(up_s, 1)}


async def cut_postgres(run: Run, topology: Topology) -> dict:
    dropped = await asyncio.to_thread(topology.proxy.cut, run.args.db_outage)
    return {"connections_dropped": dropped, "refused_s": run.args.db_outage}


async def stall_model(run: Run, model: StallableModel) -> dict:
    before = model.stalled_requests
    model.stall()
    await asyncio.sleep(run.args.stall)
    model.resume()
    return {"stalled_s": run.args.stall, "requests_held": model.stalled_requests - before}


async def watch(run: Run, topology: Topology, ledger: SlackLedger, stop: asyncio.Event) -> None:
    """The ledger kept up to date, and every replica's /readyz (and the worker's, when it has one) once a second."""
    last_ready = 0.0
    while not stop.is_set():
        await asyncio.to_thread(ledger.update)
        if now() - getattr(run, "last_rss", 0.0) >= 15.0:
            run.last_rss = now()
            run.rss_timeline.append((now(), topology.rss_now()))
        if now() - last_ready >= 1.0:
            last_ready = now()
            probes = [s for s in topology.servers.values() if s.name in ("app_a", "app_b", "worker")]
            for server, status in zip(probes, await asyncio.gather(
                    *[asyncio.to_thread(topology.ready, s) for s in probes])):
                run.readiness.append((last_ready, server.name, status))
        await asyncio.sleep(0.25)


async def inject(run: Run, topology: Topology, model: StallableModel, warmup: float, gap: float,
                 started: float) -> None:
    plan = [("replica_killed", lambda: kill_replica(run, topology)),
            ("chroma_restarted", lambda: restart_chroma(run, topology)),
            ("postgres_cut", lambda: cut_postgres(run, topology)),
            ("model_stalled", lambda: stall_model(run, model))]
    for i, (kind, action) in enumerate(plan):
        await asyncio.sleep(max(0.0, started + warmup + i * gap - now()))
        if i == 0:
            topology.mark_rss()
            run.rss_marked = topology.rss_now()
        log(f"{now() - started:6.1f} s: fault {i + 1}: {kind}")
        fault = {"kind": kind, "at": now()}
        run.faults.append(fault)
        fault |= await action()
        fault["ended"] = now()
        log(f"{now() - started:6.1f} s: fault {i + 1} over: "
            + json.dumps({k: v for k, v in fault.items()
                       if k not in ("at", "ended", "slack_in_flight", "killed_at", "up_again_at")}))


# --- the report ----------------------------------------------------------------------------------------------------

def recovered(window: list[Question], errors: list[dict], start: float, end: float, normal_s: float,
              streak: int) -> float | None:
    """Seconds from `start` to the send of the first question that begins `streak` questions in a row (by send
    time) all answered within `normal_s`, with no client error from its send until the last of them was answered."""
    asked = sorted((q for q in window if q.sent_at >= start), key=lambda q: q.sent_at)
    normal = [q.answered_at is not None and q.latency_s <= normal_s for q in asked]
    for i in range(len(asked) - streak + 1):
        run = asked[i:i + streak]
        if all(normal[i:i + streak]):
            until = max(q.answered_at for q in run)
            if not any(run[0].sent_at <= e["at"] <= until for e in errors):
                return round(run[0].sent_at - start, 1)
    return None


def settled(q: Question) -> float:
    """When a question's outcome came (its send, if none came): it counts in the window of the fault then."""
    times = [t for t in (q.answered_at, q.apologised_at) if t is not None]
    return min(times) if times else q.sent_at


def outcome(questions: list[Question]) -> dict:
    answered = [q for q in questions if q.answered_at is not None]
    return {"questions": len(questions), "answered": len(answered),
            "apologised": len([q for q in questions if q.answered_at is None and q.apologised_at is not None]),
            "lost": len([q for q in questions if q.answered_at is None and q.apologised_at is None]),
            "duplicates": len([q for q in questions if len(q.answer_keys) > 1]),
            "stored_twice": len([q for q in questions if len(q.need_ids) > 1])}


def report(run: Run, topology: Topology, ledger: SlackLedger, model: StallableModel, base: dict,
           started: float, load_end: float, warmup: float, args) -> dict:
    questions = [q for q in run.questions if q.sent_at]
    answered = [q for q in questions if q.answered_at is not None]
    # the warm-up's second half: its first answers include each replica's cold start
    warm = [q.latency_s for q in answered if started + warmup / 2 <= q.sent_at and q.answered_at < started + warmup]
    normal_s = min(args.budget, max(2.0, 2 * float(np.percentile(warm, 95)) if warm else 2.0))
    latency = percentiles([q.latency_s for q in answered])
    faults = []
    for i, fault in enumerate(run.faults):
        end = run.faults[i + 1]["at"] if i + 1 < len(run.faults) else load_end
        window = [q for q in questions if fault["at"] <= q.sent_at < end]
        touched = [q for q in questions if fault["at"] <= settled(q) < end]
        errors = [e for e in run.errors if fault["at"] <= e["at"] < end]
        entry = {"kind": fault["kind"], "errors": len(errors),
                 "recovered_s": recovered(window, run.errors, fault["at"], end, normal_s, args.streak),
                 "window_s": round(end - fault["at"], 1), **outcome(touched),
                 "error_kinds": count_by(errors, "kind"),
                 "refused_rerouted": len([r for r in run.lb.rerouted if fault["at"] <= r[0] < end]),
                 "latency_ms": percentiles([q.latency_s for q in touched if q.answered_at is not None]),
                 "unready_s": unready(run, fault["at"], end)}
        entry |= {k: v for k, v in fault.items()
                  if k not in ("kind", "at", "ended", "slack_in_flight", "killed_at", "up_again_at")}
        entry["fault_s"] = round(fault["ended"] - fault["at"], 1)
        if fault["kind"] == "replica_killed":
            flying = [q for q in run.questions if q.id in set(fault["slack_in_flight"])  # the ledger lags ~0.25 s
                      and not (q.answered_at or q.apologised_at or 1e18) <= fault["killed_at"]]
            entry["slack_in_flight"] = len(flying)
            entry["slack_in_flight_answered"] = len([q for q in flying if q.answered_at is not None])
            entry["slack_in_flight_answered_s_after_kill"] = sorted(
                round(q.answered_at - fault["killed_at"], 1) for q in flying if q.answered_at is not None)
            entry["killed_replica_up_again_s"] = round(fault["up_again_at"] - fault["killed_at"], 1)
            takers = taken_over(topology)
            entry["slack_in_flight_taken_over_by"] = count_by([{"r": takers.get(q.event_id, "-")} for q in flying],
                                                              "r")
        if fault["kind"] == "model_stalled":
            stalled = [q for q in window if q.sent_at < fault["ended"] and q.answered_at is not None]
            entry["answered_during_stall"] = len(stalled)
            entry["answered_with_notice_during_stall"] = len([q for q in stalled if q.notice])
        faults.append(entry)
    steady = [q for q in questions if settled(q) < (run.faults[0]["at"] if run.faults else load_end)]
    by_channel = {c: {**outcome([q for q in questions if q.channel == c]), "latency_ms": percentiles(
        [q.latency_s for q in answered if q.channel == c])} for c in ("web", "slack")}
    exchanges = model_outcomes(run.database)
    result = {
        **outcome(questions), "errors": len(run.errors),
        "latency_ms": latency, "baseline_ms": {k: base[k] for k in ("p50", "p95", "p99")},
        "ratio": {p: (round(latency[p] / base[p], 2) if latency[p] and base[p] else None) for p in latency},
        "faults": faults, "rss_growth_mb": topology.rss_growth(),
        "abstained": {k: len([q for q in answered if q.abstained and q.kind == k])
                      for k in ("answerable", "followup", "offtopic")},
        "asked": count_by([{"k": q.kind} for q in questions], "k"),
        "by_channel": by_channel, "steady": {**outcome(steady), "latency_ms": percentiles(
            [q.latency_s for q in steady if q.answered_at is not None])},
        "slack_ack_failed": len([q for q in questions if q.ack_failed]),
        "slack_retries_sent": sum(max(0, q.tries - 1) for q in questions if q.channel == "slack"),
        "web_asked_again": sum(max(0, q.tries - 1) for q in questions if q.channel == "web"),
        "slack_streams_left_open": ledger.open_streams(), "refused_rerouted": len(run.lb.rerouted),
        "error_kinds": count_by(run.errors, "kind"), "normal_s": round(normal_s, 2),
        "model": {"requests": model.requests, "completed": model.completed, "held_while_stalled":
                  model.stalled_requests, "exchange_outcomes": exchanges},
        "exited": {name: s.process.returncode for name, s in topology.servers.items()
                   if s.process and s.process.poll() is not None},
        "rss_mb": {"after_warmup": getattr(run, "rss_marked", {}), "end": topology.rss_now(),
                   "every_15_s": {name: [sample.get(name) for _at, sample in run.rss_timeline]
                                  for name in topology.servers}},
        "baseline": base,
        "settings": {"seconds": args.seconds, "rate": args.rate, "seed": args.seed, "embedding_model":
                     args.embedding_model, "lease_s": args.lease, "llm_budget_s": args.budget,
                     "db_outage_s": args.db_outage, "stall_s": args.stall, "warmup_s": round(warmup, 1),
                     "inbox": inbox_present(), "load_average_start": run.loadavg_start,
                     "load_average_end": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()},
        "first_answers_ms": [round(q.latency_s * 1000) for q in sorted(answered, key=lambda q: q.sent_at)[:6]],
    }
    return result


def taken_over(topology: Topology) -> dict[str, str]:
    """event id -> the replica whose inbox took it over, from the replicas' JSON logs ("inbox: took over slack:ID")."""
    takers = {}
    for server in topology.replicas():
        with contextlib.suppress(OSError):
            for found in re.finditer(r"inbox: took over slack:(\w+)", server.log_path.read_text(errors="replace")):
                takers[found.group(1)] = server.name
    return takers


def unready(run: Run, start: float, end: float) -> dict:
    """Seconds each process's /readyz was not 200 within the window (absent: it has none)."""
    seconds: dict[str, float] = {}
    for at, name, status in run.readiness:
        if start <= at < end:
            seconds.setdefault(name, 0.0)
            if status != 200:
                seconds[name] += 1.0
    statuses = {s for _a, _n, s in run.readiness}
    if statuses and statuses <= {404, None}:
        return {"readyz": "absent"}
    return seconds


def count_by(items: list[dict], key: str) -> dict:
    counts: dict = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts


def model_outcomes(database: str) -> dict:
    import psycopg

    with contextlib.suppress(Exception), psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres",
                                                         dbname=database, autocommit=True) as connection:
        return dict(connection.execute("SELECT outcome, count(*) FROM modelexchange GROUP BY outcome").fetchall())
    return {}


def inbox_present() -> bool:
    return (Path(__file__).resolve().parent.parent / "coach" / "inbox.py").exists()


def stored_needs(run: Run, ledger: SlackLedger) -> None:
    """Every need row the coach logged for our learners: a question answered twice inside the coach shows here."""
    ledger._needs(set())
    rows = ledger.connection.execute("SELECT id, learner_id, question FROM need").fetchall()
    by_learner: dict[str, list[Question]] = {}
    for q in run.questions:
        by_learner.setdefault(q.learner, []).append(q)
    for need, learner, text in rows:
        asked = by_learner.get(learner, [])
        q = next((q for q in asked if q.text == text), None) or (asked[-1] if len(asked) == 1 else None)
        if q is not None:
            q.need_ids.add(need)


async def drive(args, topology: Topology, api: SlackAPI, model: StallableModel, base: dict) -> dict:
    rng = random.Random(args.seed)
    lb = Balancer(topology.replicas())
    run = Run(args, api, lb, rng)
    run.database = topology.database
    run.loadavg_start = [round(v, 2) for v in os.getloadavg()]
    ledger = SlackLedger(api, run)
    stop = asyncio.Event()
    warmup = min(30.0, args.seconds * 0.15)
    gap = (args.seconds - warmup) / 4
    started = now()
    watcher = asyncio.create_task(watch(run, topology, ledger, stop))
    faults = None if args.no_faults else asyncio.create_task(inject(run, topology, model, warmup, gap, started))
    progress = asyncio.create_task(report_progress(run, started))
    try:
        await run.load(args.seconds, args.rate)
        if faults:
            await faults
        elif not hasattr(run, "rss_marked"):
            topology.mark_rss()
            run.rss_marked = topology.rss_now()
        load_end = now()
        deadline = load_end + args.drain
        while now() < deadline and not all(q.resolved for q in run.questions):
            await asyncio.sleep(0.5)
        unresolved = len([q for q in run.questions if not q.resolved])
        log(f"drained in {now() - load_end:.1f} s ({unresolved} without an outcome); "
            f"{args.lease * 1.5:.0f} s more for late duplicates")
        await asyncio.sleep(args.lease * 1.5)
        await asyncio.to_thread(ledger.update)
    finally:
        stop.set()
        progress.cancel()
        await watcher
    await asyncio.to_thread(stored_needs, run, ledger)
    result = report(run, topology, ledger, model, base, started, load_end, warmup, args)
    lost = [q for q in run.questions if q.sent_at and q.answered_at is None and q.apologised_at is None]
    for q in lost[:30]:
        log(f"  lost: #{q.id} {q.channel} {q.kind} {q.text!r} tries={q.tries} replicas={q.replicas} "
            f"acked_by={q.acked_by or '-'} ack_failed={q.ack_failed} sent={q.sent_at - started:.1f} s")
    for q in [q for q in run.questions if len(q.need_ids) > 1][:30]:
        log(f"  stored twice: #{q.id} {q.channel} {q.text!r} needs={sorted(q.need_ids)} replicas={q.replicas} "
            f"answers={len(q.answer_keys)} apologised={q.apologised_at is not None} sent={q.sent_at - started:.1f} s")
    for name, server in topology.servers.items():
        if server.process and server.process.poll() is not None:
            log(f"  {name} EXITED with {server.process.returncode} during the run; its log ends:\n{server.tail(15)}")
    for q in [q for q in run.questions if len(q.answer_keys) > 1][:30]:
        log(f"  duplicate: #{q.id} {q.channel} {q.text!r} answers={len(q.answer_keys)} replicas={q.replicas} "
            f"sent={q.sent_at - started:.1f} s")
    with contextlib.suppress(Exception):
        ledger.connection.close()
    if args.questions_out:
        with open(args.questions_out, "w") as out:
            for q in run.questions:
                out.write(json.dumps({
                    "id": q.id, "channel": q.channel, "kind": q.kind, "text": q.text, "sent_s": round(
                        q.sent_at - started, 2), "latency_s": q.latency_s and round(q.latency_s, 2),
                    "apologised_s": q.apologised_at and round(q.apologised_at - started, 2), "tries": q.tries,
                    "replicas": q.replicas, "acked_by": q.acked_by, "ack_failed": q.ack_failed,
                    "answers": len(q.answer_keys), "needs": len(q.need_ids), "abstained": q.abstained,
                    "notice": q.notice, "mode": q.mode,
                    "errors": [e["kind"] for e in run.errors if e["question"] == q.id]}) + "\n")
        for fault in run.faults:
            log(f"  fault {fault['kind']} at {fault['at'] - started:.1f} s, over at {fault['ended'] - started:.1f} s")
    return result


async def report_progress(run: Run, started: float) -> None:
    while True:
        await asyncio.sleep(10)
        o = outcome([q for q in run.questions if q.sent_at])
        log(f"{now() - started:6.1f} s: {o['questions']} asked, {o['answered']} answered, {o['apologised']} "
            f"apologised, {len(run.errors)} errors, {len(run.lb.rerouted)} rerouted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=1.0, help="conversations started per second (Poisson)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--embedding-model", choices=("e5", "minilm"), default="e5")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for outcomes after the load")
    parser.add_argument("--lease", type=float, default=10.0, help="COACH_INBOX_LEASE_S")
    parser.add_argument("--budget", type=float, default=5.0, help="LLM_BUDGET_S")
    parser.add_argument("--db-outage", type=float, default=5.0, help="seconds the database proxy refuses")
    parser.add_argument("--stall", type=float, default=15.0, help="seconds the model sends nothing")
    parser.add_argument("--word-delay", type=float, default=0.08, help="seconds between the model's words")
    parser.add_argument("--baseline-rounds", type=int, default=2, help="times the baseline asks each conversation")
    parser.add_argument("--streak", type=int, default=5, help="normal answers in a row that mean recovered")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--questions-out", help="write every question's record here (JSON lines)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) for a look afterwards")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    api, model = SlackAPI(), StallableModel(word_delay=args.word_delay)
    topology = Topology(work, slack_api_url=api.base_url, signing_secret=SECRET, model_url=model.base_url,
                        embedding_model=args.embedding_model, lease_s=args.lease, budget_s=args.budget)
    log(f"work folder {work}")
    try:
        base = baseline(args, model, work)
        log(f"baseline: {json.dumps(base)}")
        log("starting the topology…")
        topology.start()
        result = asyncio.run(drive(args, topology, api, model, base))
    finally:
        topology.close()
        model.close()
        api.close()
        if args.keep:
            log(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
