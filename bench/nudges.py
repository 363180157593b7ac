"""Nudge benchmark: a manager's nudge due in the same minute for N learners, sent by `coach worker` (its own process)
to the mock Slack Web API, which allows `--rate` chat.postMessage calls a second and answers 429 Retry-After beyond.

    python -m bench.nudges [--learners 10000] [--rate 100]

Run 1: time from the firing to the last message, duplicates (a learner messaged twice) and losses (never messaged).
Run 2: a second nudge, with the worker killed (SIGKILL) halfway and started again: duplicates and losses again.
Baseline in the same run: the rate limit's floor (learners / rate seconds) and the ratio to it. Progress on stderr;
one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coach.nudges import schedules
from kernel.store import make_engine, session
from coach.store.db import migrate
from coach.store.models import Learner
from tests.fakes.slack_api import TEAM, SlackAPI

LEAD_S = 25  # the nudge fires this long after scheduling: time for the worker to start


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def learners(engine, n: int) -> list[str]:
    ids = [f"slack:{TEAM}:U{i:06d}" for i in range(n)]
    with session(engine) as db:
        db.add_all([Learner(id=i, team="Everyone", timezone="UTC",
                            preferences={"days": list(range(7)), "hours": [0, 24]}) for i in ids])
        db.commit()
    return ids


def schedule(engine, message: str) -> datetime:
    at = (datetime.now(UTC) + timedelta(seconds=LEAD_S)).replace(microsecond=0)
    schedules.create(engine, owner="bench", team="Everyone", message=message, grace_s=3600,
                     recurrence={"kind": "once", "at": at.replace(tzinfo=None).isoformat()})
    return at


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "coach", "worker"], env=os.environ | env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def posted(api: SlackAPI, message: str) -> list[str]:
    with api.changed:
        return [c.args["channel"] for c in api.calls if c.method == "chat.postMessage" and message in c.args["text"]]


def wait(api: SlackAPI, message: str, count: int, timeout: float, every: float = 10.0) -> float:
    """Until `count` distinct learners have the message (or the timeout); returns when the last one arrived."""
    deadline, last_report = time.monotonic() + timeout, 0.0
    while time.monotonic() < deadline:
        got = len(set(posted(api, message)))
        if time.monotonic() - last_report > every:
            log(f"  {got}/{count} delivered")
            last_report = time.monotonic()
        if got >= count:
            break
        time.sleep(0.5)
    with api.changed:
        times = [c.at for c in api.calls if c.method == "chat.postMessage" and message in c.args["text"]]
    return max(times, default=time.monotonic())


def tally(api: SlackAPI, message: str, ids: list[str]) -> dict:
    counts = Counter(posted(api, message))
    expected = {"D" + i.rsplit(":", 1)[1] for i in ids}
    return {"delivered": len(set(counts) & expected), "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "lost": len(expected - set(counts))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100, help="chat.postMessage calls a second the mock allows")
    args = parser.parse_args()
    api = SlackAPI(rate_limits={"chat.postMessage": args.rate})
    floor = args.learners / args.rate
    with tempfile.TemporaryDirectory() as data:
        env = {"COACH_DATA_DIR": data, "DATABASE_URL": "", "COACH_LOAD_SAMPLES": "false",
               "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": api.base_url,
               "SLACK_SENDS_PER_SECOND": str(args.rate), "COACH_NUDGES_PER_DAY": "10"}
        engine = make_engine(f"sqlite:///{Path(data) / 'coach.db'}")
        migrate(engine)
        ids = learners(engine, args.learners)
        log(f"{len(ids)} learners; the mock allows {args.rate:g} messages a second (floor {floor:.0f} s)")

        first = "Run one: the all-hands moves to Thursday."
        fires = schedule(engine, first)
        fires_at = time.monotonic() + (fires - datetime.now(UTC)).total_seconds()  # on the clock calls are timed by
        worker = start_worker(env)
        log(f"run 1: the nudge fires at {fires:%H:%M:%S}…")
        last = wait(api, first, len(ids), timeout=LEAD_S + floor * 4 + 120)
        seconds = last - fires_at
        run1 = tally(api, first, ids)
        log(f"run 1: {run1} in {seconds:.1f} s")

        second = "Run two: the survey closes on Friday."
        schedule(engine, second)
        log("run 2: the worker will be killed halfway…")
        deadline = time.monotonic() + LEAD_S + floor * 4 + 120
        while len(set(posted(api, second))) < len(ids) // 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        log(f"  killed at {len(set(posted(api, second)))}/{len(ids)}; starting it again")
        worker = start_worker(env)
        wait(api, second, len(ids), timeout=floor * 4 + 120)
        time.sleep(3)  # anything doubled would arrive now
        run2 = tally(api, second, ids)
        log(f"run 2: {run2}")
        worker.terminate()
        worker.wait(timeout=30)
        engine.dispose()
    api.close()
    print(json.dumps({"learners": len(ids), **run1, "seconds": round(seconds, 1), "crash_restart": run2,
                      "baseline": {"rate_per_s": args.rate, "floor_seconds": round(floor, 1),
                                   "ratio": round(seconds / floor, 2)}}))


if __name__ == "__main__":
    main()
