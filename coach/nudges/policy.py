"""When a proactive message may reach a learner: never while they are paused; only on their working days and inside
their hours (quiet hours and weekends otherwise), in their time zone; at most `cap` a day. A message due outside
that waits for the next allowed moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.i18n import N_
from coach.lessons.review import Window, day_start, into_window
from kernel.store import session
from coach.store.models import Learner, NudgeDelivery

DAILY_CAP = 3
FOOTER = N_("_Say *pause* to stop nudges._")  # under every nudge: how to stop them


def next_allowed(engine: Engine, learner_id: str, when: datetime, cap: int = DAILY_CAP) -> datetime | None:
    """The first moment at or after `when` at which this learner may get a message; None while paused."""
    with session(engine) as db:
        learner = db.get(Learner, learner_id)
    if learner is not None and learner.paused:
        return None
    window = Window.of(learner.timezone, learner.preferences or {}) if learner else Window()
    at = into_window(when, window)
    for _ in range(14):  # two weeks of full days is more than any cap needs
        local_day = day_start(at, window.timezone)
        if sent_between(engine, learner_id, local_day, local_day + timedelta(days=1)) < cap:
            return at
        at = into_window(local_day + timedelta(days=1), window)
    return None


def sent_between(engine: Engine, learner_id: str, start: datetime, end: datetime) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(NudgeDelivery).where(
            NudgeDelivery.learner_id == learner_id, NudgeDelivery.state.in_(("sent", "sending")),
            NudgeDelivery.updated_at >= start, NudgeDelivery.updated_at < end)).one()
