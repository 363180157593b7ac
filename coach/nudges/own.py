"""The coach's own nudges, checked every few minutes by the worker: the lesson offered under an answer, followed up
the next working day (once); reviews that fell due, batched into one message a day at most; the reminder ladder of
lessons sent by managers' nudges (`ladder.py`). All go through the same ledger and allowed-times policy as
managers' nudges."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.i18n import _, ngettext, speaking
from coach.learners import language, update_profile
from coach.lessons import catalog
from coach.lessons.review import day_start
from coach.lessons.service import FOLLOW_UP_REASON
from coach.messages import Action, Reply
from coach.nudges import ladder, ledger
from coach.nudges.policy import FOOTER, next_allowed
from coach.ports import Delivery
from kernel.store import as_utc, session
from coach.store.models import Learner, LessonOffer, ReviewCard
from kernel.text import shorten

FOLLOW_UP_WITHIN = timedelta(days=4)  # an offer older than this is stale: no follow-up


async def run(engine: Engine, delivery: Delivery, now: datetime, cap: int) -> dict[str, int]:
    """One pass; returns how many of each were sent."""
    sent = {"follow_up": 0, "reviews": 0, "reminders": 0, "paused": 0}
    for learner_id, reply, key in await asyncio.to_thread(_follow_ups, engine, now):
        sent["follow_up"] += await send_if_allowed(engine, delivery, learner_id, reply, key, "follow_up", now, cap)
    for learner_id, reply, key in await asyncio.to_thread(_due_reviews, engine, now):
        sent["reviews"] += await send_if_allowed(engine, delivery, learner_id, reply, key, "review", now, cap)
    for learner_id, reply, key, rung in await asyncio.to_thread(ladder.due_rungs, engine, now):
        if reply is None:
            await asyncio.to_thread(ledger.skip, engine, key, learner_id, "reminder", "active: the ladder ends", now)
        elif rung < ladder.PAUSE_RUNG:
            sent["reminders"] += await send_if_allowed(engine, delivery, learner_id, reply, key, "reminder", now, cap)
        elif await send_if_allowed(engine, delivery, learner_id, reply, key, "auto_pause", now, cap):
            await asyncio.to_thread(update_profile, engine, learner_id, paused=True)
            sent["paused"] += 1
    return sent


async def send_if_allowed(engine, delivery, learner_id: str, reply: Reply, key: str, kind: str, now: datetime,
                          cap: int) -> int:
    """1 when sent now; 0 when recorded already, or the learner is paused or outside their allowed times (then a
    later pass, inside their hours, sends it)."""
    if await asyncio.to_thread(ledger.known, engine, key):
        return 0  # sent (or settled) on an earlier pass
    allowed = await asyncio.to_thread(next_allowed, engine, learner_id, now, cap)
    if allowed is None or allowed > now:
        return 0  # paused, or not now: the next pass inside their hours sends it
    return int(await ledger.deliver(engine, delivery, key=key, learner_id=learner_id, reply=reply, kind=kind,
                                   now=now) == "sent")


def _follow_ups(engine: Engine, now: datetime) -> list[tuple[str, Reply, str]]:
    """Lessons offered under an answer on an earlier day, not opened: offered once more, the next working day."""
    with session(engine) as db:
        offers = db.exec(select(LessonOffer).where(LessonOffer.started_at == None,  # noqa: E711
                                                   LessonOffer.reason.startswith(FOLLOW_UP_REASON),
                                                   LessonOffer.offered_at >= now - FOLLOW_UP_WITHIN)).all()
        learners = {l.id: l for l in db.exec(select(Learner).where(
            Learner.id.in_({o.learner_id for o in offers}))).all()}
        practised = {(c.learner_id, c.lesson_key) for c in db.exec(select(ReviewCard).where(
            ReviewCard.learner_id.in_({o.learner_id for o in offers}))).all()}
    out = []
    for offer in offers:
        if (offer.learner_id, offer.lesson_key) in practised:
            continue  # they took it some other way
        learner = learners.get(offer.learner_id)
        zone = learner.timezone if learner else "UTC"
        if as_utc(offer.offered_at) >= day_start(now, zone):
            continue  # offered today: tomorrow (a working day, by the policy) is soon enough
        lesson = catalog.get(engine, offer.lesson_key)
        if lesson is None or lesson.status != "approved":
            continue
        topic = offer.reason.removeprefix(FOLLOW_UP_REASON)
        with speaking(language(learner)):
            text = _("Yesterday you asked about {topic}. Two minutes to make it stick: **{title}** "
                     "({minutes} min).").format(topic=topic, title=lesson.title, minutes=lesson.minutes)
            reply = Reply(text=f"{text}\n\n{_(FOOTER)}", mode="service",
                          actions=[Action("lesson", _("Start the lesson"), lesson.key)])
        out.append((offer.learner_id, reply, f"follow_up:{offer.learner_id}:{lesson.key}"))
    return out


def _due_reviews(engine: Engine, now: datetime) -> list[tuple[str, Reply, str]]:
    """Everything due for a learner in one message, at most once a (local) day."""
    with session(engine) as db:
        cards = db.exec(select(ReviewCard).where(ReviewCard.due <= now)).all()
        learners = {l.id: l for l in db.exec(select(Learner).where(
            Learner.id.in_({c.learner_id for c in cards}))).all()}
    due = defaultdict(list)
    for card in cards:
        due[card.learner_id].append(card.lesson_key)
    out = []
    for learner_id, keys in due.items():
        lessons = [lesson for key in sorted(keys) if (lesson := catalog.get(engine, key)) and lesson.status == "approved"]
        if not lessons:
            continue
        learner = learners.get(learner_id)
        day = day_start(now, learner.timezone if learner else "UTC").date().isoformat()
        names = ", ".join(f"**{lesson.title}**" for lesson in lessons[:5])
        with speaking(language(learner)):
            text = ngettext("{count} quick review is due: {names}. One question, a minute in all.",
                            "{count} quick reviews are due: {names}. One question each, a minute in all.",
                            len(lessons)).format(count=len(lessons), names=names)
            reply = Reply(text=f"{text}\n\n{_(FOOTER)}", mode="service",
                          actions=[Action("lesson", shorten(_("Review: {title}").format(title=lesson.title), 75), lesson.key)
                                   for lesson in lessons[:5]])
        out.append((learner_id, reply, f"reviews:{learner_id}:{day}"))
    return out
