"""The nudge worker: APScheduler with its job store in the product's database keeps each schedule's next firing;
a firing is recorded as an occurrence before anything is sent, each recipient's delivery goes through the ledger
(exactly once), and a recipient in quiet hours or over the daily cap gets it at their next allowed moment. Only one
worker per deployment dispatches: it holds a database lock (PostgreSQL advisory lock; a file lock on SQLite)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from coach.gaps import notices as gap_notices
from coach.i18n import speaking
from coach.learners import language_of
from coach.messages import Reply
from coach.nudges import ladder, ledger, own, schedules
from coach.nudges.policy import DAILY_CAP, next_allowed
from coach.ports import Delivery, Lrs
from coach.xapi import sender as xapi_sender
from kernel.store import as_utc, session, utcnow
from coach.store.models import NudgeOccurrence, NudgeSchedule

log = logging.getLogger(__name__)
SYNC_S = 20.0  # the default of COACH_WORKER_SYNC_S: how often a dispatcher picks up schedules changed elsewhere
OWN_EVERY_MIN = 10  # how often the coach looks for its own nudges (follow-ups, due reviews)
LOCK_ID = 7_446_354  # the advisory lock every worker of one deployment competes for
RETRY_S = 5.0  # how soon a worker whose database went away tries again
# APScheduler's persistent job store pickles each job as a reference to a module-level function and its arguments,
# so a job cannot hold its Worker (the engine, the delivery): it names it, and finds it here. One entry per Worker of
# this process, added when it starts and removed when it stops; nothing else reads it.
_workers: dict[str, "Worker"] = {}


async def fire_job(worker_id: str, schedule_id: str, planned: str, zone: str = "") -> None:
    await _workers[worker_id].fire(schedule_id, datetime.fromisoformat(planned), zone)


async def own_job(worker_id: str) -> None:
    worker = _workers[worker_id]
    await own.run(worker.engine, worker.delivery, worker.clock(), worker.cap)
    # answers to questions that new content answered (coach/gaps/notices.py): same ledger, same allowed times
    await gap_notices.send_due(worker.engine, worker.delivery, worker.clock(), worker.cap)


async def later_job(worker_id: str, schedule_id: str, planned: str, learner_id: str) -> None:
    await _workers[worker_id].deliver_to(schedule_id, datetime.fromisoformat(planned), learner_id)


class Worker:
    def __init__(self, engine: Engine, delivery: Delivery, make_reply: Callable[[NudgeSchedule, str], Reply],
                 *, cap: int = DAILY_CAP, clock: Callable[[], datetime] = utcnow, worker_id: str = "main") -> None:
        """`make_reply(schedule, learner_id)`: what the learner gets (the message, the lesson's first screen)."""
        self.engine, self.delivery, self.make_reply, self.cap, self.clock = engine, delivery, make_reply, cap, clock
        self.id = worker_id
        self.scheduler = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone=UTC,
                                          job_defaults={"coalesce": True, "max_instances": 1})
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        _workers[worker_id] = self

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Settle what a crash left half done, then run the jobs (a firing missed while down runs now if still
        within its grace time; otherwise it is recorded as missed)."""
        await ledger.recover(self.engine, self.delivery)
        self.scheduler.start()
        self.sync()
        self.scheduler.add_job(own_job, "interval", minutes=OWN_EVERY_MIN, args=[self.id], id="coach:own",
                               replace_existing=True, next_run_time=datetime.now(UTC))
        for occurrence in self._running():
            await self.fire(occurrence.schedule_id, as_utc(occurrence.planned_at), occurrence.zone)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def sync(self) -> None:
        """Every active schedule has its next firing planned (one per time zone in learner mode); paused or deleted
        ones, and zones nobody lives in any more, have none."""
        with session(self.engine) as db:
            active = {s.id: s for s in db.exec(select(NudgeSchedule)).all() if not s.paused}
        wanted = {(schedule_id, zone) for schedule_id, schedule in active.items()
                  for zone in schedules.zones(self.engine, schedule)}
        planned = {_job_target(job.id): job for job in self.scheduler.get_jobs() if job.id.startswith("nudge:")}
        for target, job in planned.items():
            if target not in wanted:
                job.remove()
        for schedule_id, zone in wanted:
            job, schedule = planned.get((schedule_id, zone)), active[schedule_id]
            next_at = schedules.next_time(schedule, self.clock(), zone)
            if job is None or (next_at and job.next_run_time and job.next_run_time != next_at
                               and job.next_run_time > self.clock()):  # new, or edited since it was planned
                self.plan(schedule, self.clock() - timedelta(seconds=1), zone)  # a firing due right now included

    def plan(self, schedule: NudgeSchedule, after: datetime, zone: str = "") -> None:
        """The schedule's first firing (in that zone) strictly after `after`, as its job."""
        at = schedules.next_time(schedule, after + timedelta(seconds=1), zone)
        if at is None:
            return  # a one-off that has fired
        self.scheduler.add_job(fire_job, DateTrigger(at), args=[self.id, schedule.id, at.astimezone(UTC).isoformat(),
                                                                zone],
                               id=":".join(filter(None, ("nudge", schedule.id, zone))), replace_existing=True,
                               misfire_grace_time=schedule.grace_s)

    # --- firing ------------------------------------------------------------------------------------------------

    async def fire(self, schedule_id: str, planned: datetime, zone: str = "") -> None:
        schedule = await asyncio.to_thread(self._schedule, schedule_id)
        if schedule is None:
            return
        occurrence = await asyncio.to_thread(self._begin, schedule, planned, zone)
        if occurrence.state != "running":
            return
        self.plan(schedule, planned, zone)  # the next firing is in the job store before this one's sending starts
        keys = {self.key(schedule_id, learner_id, planned): learner_id for learner_id in occurrence.recipients}
        done = await asyncio.to_thread(ledger.settled, self.engine, list(keys))  # a resumed firing skips these
        for key, learner_id in keys.items():
            if key not in done:
                await self.deliver_to(schedule_id, planned, learner_id, schedule)
        await asyncio.to_thread(self._finish, occurrence.id, "done")

    async def deliver_to(self, schedule_id: str, planned: datetime, learner_id: str,
                         schedule: NudgeSchedule | None = None) -> str:
        schedule = schedule or await asyncio.to_thread(self._schedule, schedule_id)
        key = self.key(schedule_id, learner_id, planned)
        if schedule is None:
            return "skipped"
        allowed = await asyncio.to_thread(next_allowed, self.engine, learner_id, self.clock(), self.cap)
        if allowed is None:
            await asyncio.to_thread(ledger.skip, self.engine, key, learner_id, "nudge", "paused by the learner",
                                    self.clock())
            return "skipped"
        if allowed > self.clock():  # quiet hours, a day off or the daily cap: it waits for the next allowed moment
            self.scheduler.add_job(later_job, DateTrigger(allowed), args=[self.id, schedule_id, planned.isoformat(),
                                                                          learner_id],
                                   id=f"later:{key}", replace_existing=True, misfire_grace_time=schedule.grace_s)
            return "waiting"
        with speaking(await asyncio.to_thread(language_of, self.engine, learner_id)):  # the footer, the lesson
            reply = self.make_reply(schedule, learner_id)
        state = await ledger.deliver(self.engine, self.delivery, key=key, learner_id=learner_id, reply=reply,
                                     now=self.clock())
        if state == "sent" and schedule.lesson_key:
            await asyncio.to_thread(ladder.record_sent, self.engine, learner_id, schedule.lesson_key,
                                    schedule.owner, self.clock())
        return state

    @staticmethod
    def key(schedule_id: str, learner_id: str, planned: datetime) -> str:
        return f"{schedule_id}:{learner_id}:{planned.astimezone(UTC).isoformat()}"

    def _missed(self, event) -> None:
        """A firing missed beyond its grace time (the worker was down): recorded, never sent late."""
        if event.job_id.startswith("nudge:"):
            schedule_id, zone = _job_target(event.job_id)
            with session(self.engine) as db:
                db.add(NudgeOccurrence(id=_occurrence_id(schedule_id, zone, event.scheduled_run_time), zone=zone,
                                       schedule_id=schedule_id, planned_at=event.scheduled_run_time, state="missed"))
                try:
                    db.commit()
                except IntegrityError:  # already recorded (a resumed firing, another worker)
                    db.rollback()
            schedule = self._schedule(schedule_id)  # read after the rollback, which would have expired it
            if schedule is not None:
                self.plan(schedule, event.scheduled_run_time, zone)

    # --- records -----------------------------------------------------------------------------------------------

    def _schedule(self, schedule_id: str) -> NudgeSchedule | None:
        with session(self.engine) as db:
            schedule = db.get(NudgeSchedule, schedule_id)
        return None if schedule is None or schedule.paused else schedule

    def _begin(self, schedule: NudgeSchedule, planned: datetime, zone: str) -> NudgeOccurrence:
        """The occurrence with its recipients fixed at its first firing (a resumed one keeps its list)."""
        key = _occurrence_id(schedule.id, zone, planned)
        with session(self.engine) as db:
            occurrence = db.get(NudgeOccurrence, key)
            if occurrence is None:
                occurrence = NudgeOccurrence(id=key, schedule_id=schedule.id, planned_at=planned, zone=zone,
                                             recipients=schedules.recipients(self.engine, schedule, zone))
                db.add(occurrence)
                try:
                    db.commit()
                except IntegrityError:  # another worker began it a moment ago
                    db.rollback()
                    occurrence = db.get(NudgeOccurrence, key)
            db.refresh(occurrence)
            return occurrence

    def _finish(self, occurrence_id: str, state: str) -> None:
        with session(self.engine) as db:
            occurrence = db.get(NudgeOccurrence, occurrence_id)
            occurrence.state = state
            db.add(occurrence)
            db.commit()

    def _running(self) -> list[NudgeOccurrence]:
        with session(self.engine) as db:
            return list(db.exec(select(NudgeOccurrence).where(NudgeOccurrence.state == "running")).all())


def _job_target(job_id: str) -> tuple[str, str]:
    """(schedule id, zone) of a firing's job id `nudge:<schedule>[:<zone>]`."""
    _, schedule_id, *zone = job_id.split(":", 2)
    return schedule_id, zone[0] if zone else ""


def _occurrence_id(schedule_id: str, zone: str, planned: datetime) -> str:
    return ":".join(filter(None, (schedule_id, zone, planned.astimezone(UTC).isoformat())))


class DispatchLock:
    """Only one worker per deployment dispatches: PostgreSQL's advisory lock (held on its own connection), or an
    exclusive file lock next to a SQLite database."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine, self.data_dir, self._held = engine, data_dir, None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            if connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID}).scalar():
                self._held = connection
                return True
            connection.close()
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.data_dir / "worker.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held = handle
        return True

    def still_held(self) -> bool:
        """Whether the lock is still this worker's: a PostgreSQL advisory lock goes with its connection, so a
        database that dropped the connection (a restart, a failover, a proxy) has released it."""
        if self._held is None or self.engine.dialect.name != "postgresql":
            return self._held is not None
        try:
            self._held.execute(text("SELECT 1"))
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self._held is None:
            return
        held, self._held = self._held, None
        if self.engine.dialect.name != "postgresql":
            held.close()  # closing the file releases its lock
            return
        try:  # a pooled connection outlives close(): unlock explicitly
            held.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": LOCK_ID})
            held.close()
        except Exception:  # the connection is gone, and the lock with it
            held.invalidate()


async def run_dispatcher(engine: Engine, data_dir: Path, delivery: Delivery, cap: int, *,
                         say: Callable[[str], None] = log.info, sync_s: float = SYNC_S, lrs: Lrs | None = None,
                         xapi_batch: int = 200, state: Callable[[str], None] = lambda _state: None) -> None:
    """Dispatch nudges until cancelled, holding the deployment's dispatch lock; picks up schedules added, paused
    or deleted elsewhere every `sync_s`. While another worker holds the lock, it stands by to take over. With an
    LRS, the holder also sends the xAPI outbox (one sender per deployment, like one dispatcher). A database that
    goes away does not stop it: it stands by until the database answers and the lock is its own again. `state` is
    told "standing_by", "dispatching" and "stopped" as they happen (the worker's /readyz shows it)."""
    lock = DispatchLock(engine, data_dir)
    try:
        while True:
            state("standing_by")
            await _acquire(lock, say, sync_s)
            try:
                await _dispatch_while_held(engine, lock, delivery, cap, say=say, sync_s=sync_s, lrs=lrs,
                                           xapi_batch=xapi_batch, state=state)
            except SQLAlchemyError as exc:  # e.g. the database went away while starting
                log.warning("dispatching stopped: the database failed (%s); standing by", exc)
            await asyncio.sleep(min(sync_s, RETRY_S))
    finally:
        state("stopped")


async def _acquire(lock: DispatchLock, say: Callable[[str], None], sync_s: float) -> None:
    announced = False
    while True:
        try:
            if await asyncio.to_thread(lock.try_acquire):
                return
            if not announced:
                say("Another worker is dispatching; standing by to take over.")
                announced = True
            await asyncio.sleep(sync_s)
        except SQLAlchemyError as exc:
            log.warning("the dispatch lock: the database does not answer (%s); trying again", exc)
            await asyncio.sleep(min(sync_s, RETRY_S))


async def _dispatch_while_held(engine: Engine, lock: DispatchLock, delivery: Delivery, cap: int, *, say, sync_s,
                               lrs, xapi_batch, state) -> None:
    """Until cancelled, or until the lock is lost with the database connection that held it."""
    worker = Worker(engine, delivery, lambda schedule, _learner: schedules.reply_for(engine, schedule), cap=cap)
    sending = asyncio.create_task(xapi_sender.run(engine, lrs, batch=xapi_batch)) if lrs else None
    try:
        await worker.start()
        state("dispatching")
        say(f"Dispatching nudges ({len(worker.scheduler.get_jobs())} planned)."
            + (" Sending learning records to the LRS." if lrs else ""))
        while True:
            await asyncio.sleep(sync_s)
            try:
                worker.sync()
            except SQLAlchemyError as exc:  # the next round tries again, if the lock is still ours
                log.warning("could not read the schedules (%s)", exc)
            if not await asyncio.to_thread(lock.still_held):
                say("The database dropped the connection holding the dispatch lock; standing by to take over again.")
                return
    finally:
        if sending:
            sending.cancel()
        worker.stop()
        await asyncio.to_thread(lock.release)
