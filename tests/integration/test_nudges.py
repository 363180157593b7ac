"""Managers' nudges through the real scheduler and its job store in the product's database: firings recorded before
sending, recipients in quiet hours or paused handled, restarts (within and beyond the grace time), a crash halfway
resumed without doubles, and one dispatcher per deployment."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from kernel.errors import ConfigError
from coach.learners import update_profile
from coach.nudges import schedules
from coach.nudges.worker import DispatchLock, Worker
from kernel.store import make_engine, session
from coach.store.db import migrate
from coach.store.models import NudgeDelivery, NudgeOccurrence
from tests.fakes.delivery import RecordingDelivery

TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ALWAYS = {"days": [0, 1, 2, 3, 4, 5, 6], "hours": [0, 24]}
NO_LADDER = {"reminders": 0, "paused": 0}


def team(engine, *members: str, name: str = "Support", **profile) -> None:
    for member in members:
        update_profile(engine, member, team=name, timezone="UTC", preferences=ALWAYS, **profile)


def worker_for(engine, platform, clock=None) -> Worker:
    return Worker(engine, platform, lambda schedule, learner: schedules.reply_for(engine, schedule),
                  clock=clock or (lambda: datetime.now(UTC)))


def until(predicate, timeout: float = 30.0) -> None:
    """Waits for a recorded state (a log record, rows in the database) to hold."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the state waited for never came"
        time.sleep(0.05)


class Output:
    """A worker process's output as it comes (read in a thread, so the test can wait for a line)."""

    def __init__(self, process) -> None:
        self._lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()

    def text(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, predicate, timeout: float = 60.0) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: predicate("".join(self._lines)), timeout), "".join(self._lines)


def test_recurrences_become_triggers_and_nonsense_is_refused():
    def nxt(recurrence, tz="Europe/Amsterdam"):
        return schedules.trigger(recurrence, tz).get_next_fire_time(None, datetime(2026, 11, 28, 10, tzinfo=UTC))

    saturday_11_local = datetime(2026, 11, 28, 10, tzinfo=UTC)  # Saturday
    assert nxt({"kind": "weekdays", "time": "09:00"}) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 9:00
    assert nxt({"kind": "cron", "expr": "0 9 * * 1-5"}) == nxt({"kind": "weekdays", "time": "09:00"})  # 1 = Monday
    assert nxt({"kind": "weekly", "days": ["Sunday"], "time": "18:30"}) == datetime(2026, 11, 29, 17, 30, tzinfo=UTC)
    assert nxt({"kind": "daily", "time": "12:00"}) == saturday_11_local + timedelta(hours=1)
    assert nxt({"kind": "once", "at": "2026-12-24T09:00"}) == datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
    for bad in ({"kind": "hourly"}, {"kind": "weekly", "days": ["caturday"]}, {"kind": "cron", "expr": "9 * *"}):
        with pytest.raises(ConfigError):
            schedules.trigger(bad, "UTC")
    with pytest.raises(ConfigError):
        schedules.trigger({"kind": "daily"}, "Mars/Olympus")


def test_a_firing_reaches_the_team_once_waits_out_quiet_hours_and_skips_the_paused(container):
    engine = container.engine
    team(engine, "ana", "ben")
    update_profile(engine, "cas", team="Support", timezone="Asia/Tokyo")  # 19:00 in Tokyo: after their hours
    update_profile(engine, "dee", team="Support", paused=True)
    schedule = schedules.create(engine, owner="manager", team="Support", message="Try the new expenses flow today.",
                                recurrence={"kind": "weekdays", "time": "10:00"})
    platform = RecordingDelivery()
    worker = worker_for(engine, platform, clock=lambda: TUESDAY_10)

    async def run():
        worker.scheduler.start(paused=True)
        await worker.fire(schedule.id, TUESDAY_10)
        await worker.fire(schedule.id, TUESDAY_10)  # fired twice (a retry, a second worker): nothing doubles
        jobs = {job.id: job.next_run_time for job in worker.scheduler.get_jobs()}
        worker.stop()
        return jobs

    jobs = asyncio.run(run())
    assert sorted(s.learner_id for s in platform.sent) == ["ana", "ben"]
    assert "Try the new expenses flow today." in platform.sent[0].text
    assert jobs[f"nudge:{schedule.id}"] == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # the next weekday
    waiting = [at for job_id, at in jobs.items() if job_id.startswith("later:") and ":cas:" in job_id]
    assert waiting == [datetime(2026, 12, 2, 0, 0, tzinfo=UTC)]  # 9:00 the next morning in Tokyo
    with session(engine) as db:
        states = {d.learner_id: d.state for d in db.exec(select(NudgeDelivery)).all()}
        [occurrence] = db.exec(select(NudgeOccurrence)).all()
    assert states == {"ana": "sent", "ben": "sent", "dee": "skipped"}
    assert occurrence.state == "done" and occurrence.recipients == ["ana", "ben", "cas", "dee"]


def test_the_real_scheduler_fires_on_time_and_its_jobs_survive_a_restart(container):
    engine = container.engine
    team(engine, "ana")
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    once = schedules.create(engine, owner="m", learners=["ana"], message="Once, soon.",
                            recurrence={"kind": "once", "at": soon.replace(tzinfo=None).isoformat()})
    daily = schedules.create(engine, owner="m", learners=["ana"], message="Daily.",
                             recurrence={"kind": "daily", "time": "03:00"})
    platform = RecordingDelivery()

    async def first_run():
        worker = worker_for(engine, platform)
        await worker.start()
        deadline = time.monotonic() + 15
        while not platform.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        worker.stop()

    asyncio.run(first_run())
    assert [s.text for s in platform.sent] == ["Once, soon.\n\n_Say *pause* to stop nudges._"]
    assert "apscheduler_jobs" in inspect(engine).get_table_names()

    async def after_restart():
        worker = worker_for(engine, platform)
        worker.scheduler.start(paused=True)
        jobs = [job.id for job in worker.scheduler.get_jobs() if job.id.startswith("nudge:")]
        worker.stop()
        return jobs

    assert asyncio.run(after_restart()) == [f"nudge:{daily.id}"]  # kept in the database; the one-off is spent
    assert once.id not in str(asyncio.run(after_restart()))


def test_a_firing_missed_while_down_is_sent_within_its_grace_time_and_recorded_beyond_it(container):
    engine = container.engine
    team(engine, "ana")
    past = datetime.now(UTC) - timedelta(minutes=10)
    recent = schedules.create(engine, owner="m", learners=["ana"], message="Within grace.", grace_s=3600,
                              recurrence={"kind": "once", "at": past.replace(tzinfo=None).isoformat()})
    stale = schedules.create(engine, owner="m", learners=["ana"], message="Too late.", grace_s=60,
                             recurrence={"kind": "once", "at": past.replace(tzinfo=None).isoformat()})
    platform = RecordingDelivery()

    def stale_missed() -> bool:
        with session(engine) as db:
            return db.exec(select(NudgeOccurrence.state).where(NudgeOccurrence.schedule_id == stale.id)).all() == \
                ["missed"]

    async def down_then_up():
        worker = worker_for(engine, platform)
        worker.scheduler.start(paused=True)
        for schedule in (recent, stale):  # planned before the outage, as a running worker would have
            worker.plan(schedule, past - timedelta(seconds=1))
        worker.stop()
        restarted = worker_for(engine, platform)
        await restarted.start()
        deadline = time.monotonic() + 15  # until both are settled: one sent, the other recorded as missed
        while not (platform.sent and stale_missed()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        restarted.stop()

    asyncio.run(down_then_up())
    assert [s.text.split("\n")[0] for s in platform.sent] == ["Within grace."]
    with session(engine) as db:
        missed = db.exec(select(NudgeOccurrence).where(NudgeOccurrence.schedule_id == stale.id)).one()
    assert missed.state == "missed"


def test_a_missed_firing_already_on_record_still_gets_its_next_firing_planned(container):
    engine = container.engine
    team(engine, "ana")
    missed_at = (datetime.now(UTC) - timedelta(days=1, hours=2)).replace(second=0, microsecond=0)
    schedule = schedules.create(engine, owner="m", learners=["ana"], message="Daily.", grace_s=60,
                                recurrence={"kind": "daily", "time": missed_at.strftime("%H:%M")})
    with session(engine) as db:  # a worker before this one recorded it as missed, then went down
        db.add(NudgeOccurrence(id=f"{schedule.id}:{missed_at.isoformat()}", schedule_id=schedule.id,
                               planned_at=missed_at, state="missed"))
        db.commit()
    platform = RecordingDelivery()

    async def restart() -> datetime | None:
        worker = worker_for(engine, platform)
        worker.scheduler.start(paused=True)
        worker.plan(schedule, missed_at - timedelta(seconds=1))  # the stale job it left in the store
        worker.stop()
        restarted = worker_for(engine, platform)
        await restarted.start()
        deadline = time.monotonic() + 10
        # the missed firing is handled first (its job replaced by the next one's): wait for the next one to be planned
        while ((job := restarted.scheduler.get_job(f"nudge:{schedule.id}")) is None
               or job.next_run_time <= datetime.now(UTC)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        restarted.stop()
        return job.next_run_time if job else None

    next_run = asyncio.run(restart())
    assert next_run == missed_at + timedelta(days=2)  # the next firing still to come, not lost on the duplicate
    assert platform.sent == []


def test_a_crash_halfway_through_a_firing_resumes_without_doubles(container):
    engine = container.engine
    team(engine, *[f"l{n}" for n in range(6)])
    # on the real clock, as the scheduler runs: a firing two hours ago, so the next one is nowhere near this test
    planned = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    schedule = schedules.create(engine, owner="m", team="Support", message="Hello.",
                                recurrence={"kind": "daily", "time": planned.strftime("%H:%M")})
    first = RecordingDelivery()

    class Crash(Exception):
        pass

    async def crashing():
        worker = worker_for(engine, first)
        worker.scheduler.start(paused=True)
        original = worker.deliver_to

        async def deliver_to(*args, **kwargs):
            if len(first.sent) == 3:
                raise Crash()
            return await original(*args, **kwargs)

        worker.deliver_to = deliver_to
        with pytest.raises(Crash):
            await worker.fire(schedule.id, planned)
        worker.stop()

    asyncio.run(crashing())
    second = RecordingDelivery()

    async def restart():
        worker = worker_for(engine, second)
        await worker.start()
        worker.stop()

    asyncio.run(restart())
    delivered = [s.learner_id for s in first.sent + second.sent]
    assert sorted(delivered) == [f"l{n}" for n in range(6)]  # everyone once: nobody lost, nobody twice


@pytest.mark.postgres
def test_only_one_worker_dispatches(database_url, tmp_path):
    engines = [make_engine(database_url) for _ in range(2)]
    migrate(engines[0])
    first, second = (DispatchLock(engine, tmp_path / "data") for engine in engines)
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_two_worker_processes_on_one_database_send_a_scheduled_nudge_once(postgres_url, tmp_path):
    """`coach nudges add` schedules for the learners of a manager's team; two `coach worker` processes start on one
    PostgreSQL; the nudge reaches the mock Slack API once, from whichever took the lock."""
    import os
    import subprocess
    import sys

    from typer.testing import CliRunner

    from connectors.cli.main import app
    from tests.fakes.slack_api import TEAM, SlackAPI

    api = SlackAPI()
    env = {"DATABASE_URL": postgres_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": api.base_url,
           "COACH_LOAD_SAMPLES": "false"}
    workers, outputs = [], []
    try:
        runner = CliRunner()
        for n, (role, who) in enumerate([("manager", "MGR"), ("", "U1"), ("", "U2")]):
            env_n = env | {"COACH_DATA_DIR": str(tmp_path / "cli")}
            assert runner.invoke(app, ["learners", "set", f"slack:{TEAM}:{who}", "--team", "Support",
                                       "--timezone", "UTC", "-p", "days=0-6", "-p", "hours=0-24"]
                                 + (["--role", role] if role else []), env=env_n).exit_code == 0, n
        soon = (datetime.now(UTC) + timedelta(seconds=20)).replace(tzinfo=None, microsecond=0).isoformat()
        refused = runner.invoke(app, ["nudges", "add", "--team", "Marketing", "--message", "Hi", "--at", soon,
                                      "--as", f"slack:{TEAM}:MGR"], env=env | {"COACH_DATA_DIR": str(tmp_path / "cli")})
        assert refused.exit_code == 2 and "manages Support, not Marketing" in refused.stderr
        added = runner.invoke(app, ["nudges", "add", "--team", "Support", "--message", "Stand-up moves to 9:30.",
                                    "--at", soon, "--as", f"slack:{TEAM}:MGR"],
                              env=env | {"COACH_DATA_DIR": str(tmp_path / "cli")})
        assert added.exit_code == 0, added.stderr
        for n in range(2):
            workers.append(subprocess.Popen([sys.executable, "-m", "coach", "worker"], text=True,
                                            env=os.environ | env | {"COACH_DATA_DIR": str(tmp_path / f"w{n}"),
                                                                    "PYTHONUNBUFFERED": "1"},
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
            outputs.append(Output(workers[-1]))
        api.wait_for(lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= 3, timeout=90)
        # each worker has said which it is, and the ledger holds all three sends as done: nothing more can be sent
        for output in outputs:
            output.wait_for(lambda text: "Dispatching nudges" in text or "standing by" in text)
        engine = make_engine(postgres_url)
        with session(engine) as db:
            until(lambda: sorted(db.exec(select(NudgeDelivery.state)).all()) == ["sent"] * 3)
        engine.dispose()
        posts = api.of("chat.postMessage")
        assert sorted(p.args["channel"] for p in posts) == ["DMGR", "DU1", "DU2"]  # the manager is in the team too
        assert all("Stand-up moves to 9:30." in p.args["text"] for p in posts)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=30)
        api.close()
    texts = [output.text() for output in outputs]
    assert sum("standing by" in text for text in texts) == 1, texts
    assert sum("Dispatching nudges" in text for text in texts) == 1, texts


def test_the_coach_follows_up_a_lesson_offer_the_next_working_day_and_batches_due_reviews(container, tmp_path):
    from coach.nudges import own
    from coach.store.models import LessonOffer, ReviewCard
    from tests.integration.lesson_files import load_test_lessons

    engine = container.engine
    load_test_lessons(container, tmp_path)
    update_profile(engine, "sam", timezone="Europe/Amsterdam")
    friday_11 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    with session(engine) as db:
        db.add(LessonOffer(learner_id="sam", lesson_key="report-phishing", offered_at=friday_11,
                           reason="after your question about information security"))
        db.add_all([ReviewCard(learner_id="ana", lesson_key=key, card={}, due=friday_11, last_review=friday_11)
                    for key in ("customer-complaints", "training-budget")])
        db.commit()
    update_profile(engine, "ana", timezone="UTC")
    platform = RecordingDelivery()

    def run(at: datetime) -> dict:
        return asyncio.run(own.run(engine, platform, at, cap=3))

    assert run(friday_11 + timedelta(hours=4)) == {"follow_up": 0, "reviews": 1, **NO_LADDER}  # offered today
    assert run(datetime(2026, 11, 28, 10, 0, tzinfo=UTC)) == {"follow_up": 0, "reviews": 0, **NO_LADDER}  # Saturday
    monday_10 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert run(monday_10) == {"follow_up": 1, "reviews": 1, **NO_LADDER}  # next working day; reviews once a day
    assert run(monday_10 + timedelta(hours=1)) == {"follow_up": 0, "reviews": 0, **NO_LADDER}
    follow_up = next(iter(platform.to("sam")))
    assert follow_up.startswith("Yesterday you asked about information security") and "Report phishing fast" in follow_up
    reviews = platform.to("ana")
    assert len(reviews) == 2 and reviews[0].startswith("2 quick reviews are due: **Handle a complaint**, **Spend your")


def test_the_app_server_dispatches_nudges_when_no_other_worker_does_and_takes_over_from_one_that_stops(tmp_path, embedder, caplog):
    from fastapi.testclient import TestClient

    from coach.bootstrap import bootstrap
    from connectors.server import create_app
    from tests.conftest import make_settings
    from tests.fakes.slack_api import TEAM, SlackAPI
    from tests.integration.slack_helpers import SECRET

    api = SlackAPI()
    try:
        container = bootstrap(make_settings(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                                            SLACK_API_URL=api.base_url, COACH_RUN_WORKER=True,
                                            COACH_WORKER_SYNC_S=0.3),
                              embedder=embedder)
        learner = f"slack:{TEAM}:U5"
        update_profile(container.engine, learner, timezone="UTC", preferences=ALWAYS)
        soon = (datetime.now(UTC) + timedelta(seconds=2)).replace(tzinfo=None, microsecond=0).isoformat()
        schedules.create(container.engine, owner="m", learners=[learner], message="From the server.",
                         recurrence={"kind": "once", "at": soon})
        other = DispatchLock(container.engine, container.settings.data_dir)
        assert other.try_acquire()  # a `coach worker` dispatches when the server starts ...
        caplog.set_level(logging.INFO, logger="coach.nudges.worker")
        with TestClient(create_app(container)):
            until(lambda: any("standing by" in r.getMessage() for r in caplog.records))  # ... so the server said
            assert api.of("chat.postMessage") == []  # it stands by, and sent nothing
            other.release()  # that worker stops: the server takes over
            [post] = api.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls)) and \
                api.of("chat.postMessage")
            assert "From the server." in post.args["text"] and post.args["channel"] == "DU5"
            assert not DispatchLock(container.engine, container.settings.data_dir).try_acquire()  # the server has it
    finally:
        api.close()


def test_an_edited_schedule_is_replanned_and_bad_edits_are_refused(container, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from connectors.cli.main import app

    engine = container.engine
    schedule = schedules.create(engine, owner="m", learners=["ana"], message="Old.",
                                recurrence={"kind": "daily", "time": "09:00"})

    async def planned_after_edit():
        worker = worker_for(engine, RecordingDelivery(), clock=lambda: TUESDAY_10)
        worker.scheduler.start(paused=True)
        worker.sync()
        before = worker.scheduler.get_job(f"nudge:{schedule.id}").next_run_time
        schedules.edit(engine, schedule.id, recurrence={"kind": "weekly", "days": ["fri"], "time": "15:00"},
                       message="New.")
        worker.sync()
        after = worker.scheduler.get_job(f"nudge:{schedule.id}").next_run_time
        worker.stop()
        return before, after

    before, after = asyncio.run(planned_after_edit())
    assert before == datetime(2026, 12, 2, 9, 0, tzinfo=UTC) and after == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert schedules.get(engine, schedule.id).message == "New."

    monkeypatch.setenv("COACH_DATA_DIR", str(container.settings.data_dir))
    runner = CliRunner()
    assert runner.invoke(app, ["nudges", "edit", schedule.id, "--daily", "25:00"]).exit_code == 2
    assert runner.invoke(app, ["nudges", "edit", schedule.id, "--message", "", "--lesson", ""]).exit_code == 2
    changed = runner.invoke(app, ["nudges", "edit", schedule.id, "--weekdays", "08:15", "--tz", "Europe/Amsterdam"])
    assert changed.exit_code == 0 and schedules.get(engine, schedule.id).recurrence == {"kind": "weekdays",
                                                                                         "time": "08:15"}

