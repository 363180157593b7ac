"""The coach's reminder ladder for unanswered lessons (ending in an automatic pause with a one-tap resume), and
schedules in each learner's own time zone or posted in a channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from kernel.errors import ConfigError
from coach.learners import update_profile
from coach.nudges import schedules
from kernel.store import session
from coach.store.models import NudgeOccurrence
from tests.fakes.delivery import RecordingDelivery
from tests.integration.test_nudges import ALWAYS, TUESDAY_10, team, worker_for


def test_an_unanswered_lesson_gets_growing_reminders_then_nudges_pause_with_a_one_tap_resume(container, tmp_path):
    """ana ignores everything: two reminders (a day, then two days later), then a pause with a Resume button; ben
    asks the coach something meanwhile: the ladder ends without pausing him; cas answers the lesson: no reminder."""
    from coach.nudges import own
    from coach.store.models import Learner, LessonAttempt, Need
    from tests.integration.lesson_files import load_test_lessons

    engine = container.engine
    load_test_lessons(container, tmp_path)
    team(engine, "ana", "ben", "cas")
    schedule = schedules.create(engine, owner="manager", team="Support", lesson_key="report-phishing",
                                recurrence={"kind": "once", "at": "2026-12-01T10:00"})
    platform = RecordingDelivery()
    worker = worker_for(engine, platform, clock=lambda: TUESDAY_10)

    async def fire():
        worker.scheduler.start(paused=True)
        await worker.fire(schedule.id, TUESDAY_10)
        worker.stop()

    asyncio.run(fire())
    with session(engine) as db:
        db.add(LessonAttempt(learner_id="cas", lesson_key="report-phishing", chosen=0, correct=True,
                             at=TUESDAY_10 + timedelta(hours=2)))
        db.add(Need(id="n1", learner_id="ben", channel="dm", platform="test", question="vpn?", answered=True,
                    created_at=TUESDAY_10 + timedelta(days=2)))
        db.commit()

    def run(days: float) -> dict:
        return asyncio.run(own.run(engine, platform, TUESDAY_10 + timedelta(days=days), cap=3))

    def told(learner: str) -> list[str]:
        return platform.to(learner)[1:]  # after the lesson itself

    assert run(0.5)["reminders"] == 0  # too soon
    assert run(1)["reminders"] == 2  # ana and ben; cas answered
    assert run(1.5)["reminders"] == 0 and run(2.9)["reminders"] == 0  # the next gap is two days
    assert run(3)["reminders"] == 2
    assert run(6.9) == {"follow_up": 0, "reviews": 0, "reminders": 0, "paused": 0}
    assert run(7) == {"follow_up": 0, "reviews": 0, "reminders": 0, "paused": 1}
    assert run(8) == {"follow_up": 0, "reviews": 0, "reminders": 0, "paused": 0}  # a ladder climbs once
    assert len(told("ana")) == 3 and told("ana")[0].startswith("**Report phishing fast** is still waiting")
    assert "paused my nudges" in told("ana")[2]
    assert len(told("ben")) == 2 and told("cas") == []
    with session(engine) as db:
        paused = {l.id: l.paused for l in db.exec(select(Learner)).all()}
    assert paused == {"ana": True, "ben": False, "cas": False}
    resumed = container.coach.act("ana", "resume")  # the one tap on the message's button
    assert "resume" in resumed.text.lower() or "back" in resumed.text.lower()
    with session(engine) as db:
        assert db.get(Learner, "ana").paused is False


def test_in_learner_mode_each_time_zone_gets_its_own_nine_oclock_and_a_channel_gets_one_post(container):
    engine = container.engine
    for who, zone in (("kai", "Asia/Tokyo"), ("lia", "Europe/Lisbon"), ("max", "Europe/Lisbon")):
        update_profile(engine, who, team="Support", timezone=zone, preferences=ALWAYS)
    schedule = schedules.create(engine, owner="manager", team="Support", message="Good morning: one tip today.",
                                recurrence={"kind": "daily", "time": "09:00"}, zone_mode="learner")
    posted = schedules.create(engine, owner="manager", channel="slack:T1:C0SUPPORT", message="Team tip of the week",
                              recurrence={"kind": "weekly", "days": ["tue"], "time": "10:00"})
    platform = RecordingDelivery()
    monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    worker = worker_for(engine, platform, clock=lambda: monday_noon)

    async def run():
        worker.scheduler.start(paused=True)
        worker.sync()
        jobs = {job.id: job.next_run_time for job in worker.scheduler.get_jobs()}
        await worker.fire(schedule.id, jobs[f"nudge:{schedule.id}:Asia/Tokyo"], "Asia/Tokyo")
        await worker.fire(posted.id, jobs[f"nudge:{posted.id}"])
        worker.stop()
        return jobs

    jobs = asyncio.run(run())
    assert jobs[f"nudge:{schedule.id}:Asia/Tokyo"] == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 9:00 in Tokyo
    assert jobs[f"nudge:{schedule.id}:Europe/Lisbon"] == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 9:00 in Lisbon
    assert f"nudge:{schedule.id}" not in jobs
    assert [s.learner_id for s in platform.sent] == ["kai", "slack:T1:C0SUPPORT"]
    with session(engine) as db:
        tokyo = db.exec(select(NudgeOccurrence).where(NudgeOccurrence.zone == "Asia/Tokyo")).one()
    assert tokyo.recipients == ["kai"]
    with pytest.raises(ConfigError):
        schedules.create(engine, owner="manager", team="Support", message="x", recurrence={"kind": "daily"},
                         zone_mode="moon")
