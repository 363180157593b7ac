"""xAPI benchmark: learning events through the outbox into a real LRS (Ralph, persistent, from `make lrs`), sent
by `coach worker` in its own process, while the LRS is stopped for a while and the worker is killed (SIGKILL) once
in the middle of a POST, then started again.

    python -m bench.xapi [--events 10000] [--rate 400] [--outage 10]

Events are written by this process as the product writes them (questions, ratings, lessons opened and answered,
spaced reviews, nudges sent), so the ORM capture puts their statements in the outbox in the same transaction.
A counting proxy in front of the LRS sees every POST (a load balancer's 502 while the LRS is down):
`duplicates` are statements posted again after the LRS had acknowledged them, plus 409 conflicts. `delivered`
counts the distinct ids the LRS returns afterwards; `lost` = events - delivered. Baseline in the same run: the same
statements bulk-POSTed straight to a fresh Ralph in batches of the same size, and the ratio to it.
Progress on stderr; one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlmodel import func, select

from coach.lessons import catalog
from coach.lessons.authoring import load_lessons
from coach.settings import Settings
from coach.store.db import migrate
from coach.store.models import LessonAttempt, LessonOffer, Need, NudgeDelivery, XapiStatement
from coach.xapi import capture
from coach.xapi.profile import Profile
from kernel.store import make_engine, session, utcnow
from tests.lrs.servers import Ralph, free_port, missing

REPO = Path(__file__).resolve().parent.parent
BATCH = 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CountingProxy:
    """Forwards to the LRS; records each POSTed statement id with whether the LRS acknowledged that POST."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.lock = upstream.rstrip("/"), threading.Lock()
        self.acknowledged: set[str] = set()
        self.duplicates = self.conflicts = self.posts = self.active = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                with proxy.lock:
                    proxy.active += 1
                try:
                    response = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers,
                                             timeout=60)
                    status, content, kind = response.status_code, response.content, response.headers.get(
                        "content-type", "application/json")
                except httpx.HTTPError:
                    status, content, kind = 502, b'{"detail": "the LRS is down"}', "application/json"
                finally:
                    with proxy.lock:
                        proxy.active -= 1
                if self.command == "POST" and self.path.rstrip("/").endswith("/statements"):
                    proxy.count(json.loads(body), status)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while the LRS answered: the answer is lost, as in production

            do_GET = do_POST = do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/xAPI/"

    def count(self, statements, status: int) -> None:
        ids = [s["id"] for s in (statements if isinstance(statements, list) else [statements])]
        with self.lock:
            self.posts += 1
            self.duplicates += sum(1 for i in ids if i in self.acknowledged)
            if status == 409:
                self.conflicts += 1
            if status in (200, 204):
                self.acknowledged.update(ids)


class Producer:
    """Learning events as the product records them, a few hundred a second."""

    def __init__(self, engine, lessons: list[str], rng: random.Random) -> None:
        self.engine, self.lessons, self.rng = engine, lessons, rng
        self.needs: list[tuple[str, str]] = []
        self.learners = [f"slack:T1:U{i:05d}" for i in range(500)]

    def one(self, db) -> None:
        learner, roll, now = self.rng.choice(self.learners), self.rng.random(), utcnow()
        if roll < 0.40 or not self.needs:
            need = Need(id=uuid.uuid4().hex, learner_id=learner, channel="dm", platform="slack",
                        question="How do I <redacted>?", topics=["expenses"], answered=self.rng.random() < 0.8,
                        confidence=0.7, sources=[])
            db.add(need)
            self.needs.append((need.id, learner))
        elif roll < 0.55:
            need_id, asker = self.needs.pop(self.rng.randrange(len(self.needs)))
            need = db.get(Need, need_id)
            need.feedback, need.feedback_at = self.rng.choice(("helpful", "not_helpful")), now
            db.add(need)
        elif roll < 0.70:
            db.add(LessonOffer(learner_id=learner, lesson_key=self.rng.choice(self.lessons), reason="bench",
                               offered_at=now, started_at=now))
        elif roll < 0.90:
            db.add(LessonAttempt(learner_id=learner, lesson_key=self.rng.choice(self.lessons),
                                 chosen=self.rng.randrange(3), correct=self.rng.random() < 0.7, at=now))
        else:
            db.add(NudgeDelivery(key=f"bench-{uuid.uuid4().hex}:{learner}", learner_id=learner, kind="review",
                                 state="sent", created_at=now, updated_at=now))

    def until(self, events: int, rate: float, stop: threading.Event) -> None:
        """Writes events (a transaction of ~20 each) until the outbox holds `events` statements."""
        interval = 20 / rate
        while not stop.is_set() and queued(self.engine) < events:
            started = time.monotonic()
            with session(self.engine) as db:
                for _ in range(20):
                    self.one(db)
                db.commit()
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


def queued(engine) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(XapiStatement)).one()


def counts(engine) -> dict[str, int]:
    with session(engine) as db:
        return dict(db.exec(select(XapiStatement.state, func.count()).group_by(XapiStatement.state)).all())


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "coach", "worker"], env=os.environ | env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def baseline(statements: list[dict], workdir: Path) -> float:
    """The LRS's own bulk POST of the same statements, straight to a fresh Ralph, batches of the same size."""
    with Ralph(workdir) as lrs, lrs.client() as client:
        started = time.perf_counter()
        for start in range(0, len(statements), BATCH):
            client.post("statements", json=statements[start:start + BATCH]).raise_for_status()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0, help="events written per second")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the LRS is stopped")
    args = parser.parse_args()
    if reason := missing():
        sys.exit(reason)
    work = Path(tempfile.mkdtemp(prefix="bench-xapi-"))
    lrs = Ralph(work / "ralph").start()
    proxy = CountingProxy(f"http://127.0.0.1:{lrs.port}")
    env = {"COACH_DATA_DIR": str(work / "data"), "XAPI_ENDPOINT": proxy.endpoint, "XAPI_USERNAME": lrs.username,
           "XAPI_PASSWORD": lrs.password, "XAPI_BATCH": str(BATCH), "COACH_EMBEDDING_MODEL": "minilm",
           "COACH_LOAD_SAMPLES": "false", "COACH_PUBLIC_URL": "https://coach.example.com"}
    settings = Settings(**{k: v for k, v in env.items()})
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    specs, _problems = load_lessons(REPO / "examples" / "lessons", None)
    catalog.save(engine, specs)
    capture.attach(engine, Profile.of(engine, settings))
    try:
        result = run(args, engine, lrs, proxy, env, work)
    finally:
        lrs.stop()
    print(json.dumps(result))


def run(args, engine, lrs: Ralph, proxy: CountingProxy, env: dict, work: Path) -> dict:
    faults: list[dict] = []
    worker = start_worker(env)
    stop = threading.Event()
    producer = Producer(engine, [k for k in catalog_keys(engine)], random.Random(20))
    writing = threading.Thread(target=producer.until, args=(args.events, args.rate, stop), daemon=True)
    started = time.monotonic()
    writing.start()
    try:
        wait_until(lambda: counts(engine).get("sent", 0) >= args.events * 0.2, 180, "a fifth sent")
        log(f"{time.monotonic() - started:.1f} s: stopping the LRS for {args.outage:.0f} s ({counts(engine)})")
        lrs.stop()
        down = time.monotonic()
        time.sleep(args.outage)
        lrs.start()
        back, sent_then = time.monotonic(), counts(engine).get("sent", 0)
        faults.append({"kind": "lrs_stopped", "seconds": round(back - down, 1)})
        log(f"{time.monotonic() - started:.1f} s: LRS back ({counts(engine)})")
        wait_until(lambda: counts(engine).get("sent", 0) > sent_then, 300, "sending again")
        faults[-1]["back_sending_s"] = round(time.monotonic() - back, 1)
        wait_until(lambda: counts(engine).get("sent", 0) >= args.events * 0.5, 300, "half sent")
        wait_until(lambda: proxy.active > 0, 60, "a POST in flight", every=0.002)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        faults.append({"kind": "worker_killed_mid_post", "in_flight": counts(engine).get("sending", 0)})
        log(f"{time.monotonic() - started:.1f} s: worker killed mid-POST ({counts(engine)}); starting it again")
        worker, restarted, before = start_worker(env), time.monotonic(), counts(engine).get("sent", 0)
        wait_until(lambda: counts(engine).get("sent", 0) > before, 300, "the restarted worker sending")
        faults[-1]["back_sending_s"] = round(time.monotonic() - restarted, 1)  # its start (models, index) included
        writing.join()
        events = queued(engine)
        wait_until(lambda: counts(engine).get("sent", 0) >= events, 600, "all sent")
        seconds = time.monotonic() - started
        faults[-1]["drained_s"] = round(time.monotonic() - restarted, 1)
    finally:
        stop.set()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    with session(engine) as db:
        ours = [row.statement for row in db.exec(select(XapiStatement).order_by(XapiStatement.created_at)).all()]
    stored = {s["id"] for s in lrs.statements()}
    delivered = len(stored & {s["id"] for s in ours})
    log(f"{delivered} of {len(ours)} in the LRS; measuring the LRS's own bulk POST of them")
    floor = baseline(ours, work / "baseline")
    return {"events": len(ours), "delivered": delivered, "lost": len(ours) - delivered,
            "duplicates": proxy.duplicates + proxy.conflicts, "conflicts": proxy.conflicts, "posts": proxy.posts,
            "seconds": round(seconds, 1), "baseline_bulk_post_s": round(floor, 2),
            "ratio": round(seconds / floor, 1), "writing_s": round(args.events / args.rate, 1), "faults": faults, "final_states": counts(engine)}


def catalog_keys(engine) -> list[str]:
    from coach.store.models import Lesson

    with session(engine) as db:
        return list(db.exec(select(Lesson.key)).all())


def wait_until(predicate, timeout_s: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


if __name__ == "__main__":
    main()
