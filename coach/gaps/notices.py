"""Telling people their unanswered question has an answer now: once, in their personal chat on the platform they
asked on, through the same ledger and allowed-times policy as every proactive message. A notice that may not go
now (paused, quiet hours, a day off, the daily cap) waits for a later pass of the worker; one still waiting after
WAIT_AT_MOST is recorded as skipped, since an answer weeks late would confuse more than help. A forgotten learner's
notices were deleted with their questions, so they are never told."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.i18n import MONTHS, N_, WEEKDAYS, _, speaking
from coach.learners import language_of
from coach.messages import Citation, Reply
from coach.nudges import ledger
from coach.nudges.own import send_if_allowed
from coach.ports import Delivery
from kernel.store import as_utc, session
from coach.store.models import GapNotice, Learner, Need, NudgeDelivery

KIND = "gap_answer"
WAIT_AT_MOST = timedelta(days=14)
FOOTER = N_("_Say *pause* to stop messages like this._")


async def send_due(engine: Engine, delivery: Delivery, now: datetime, cap: int) -> int:
    """One pass over the notices not yet settled; returns how many were sent."""
    sent = 0
    for notice, zone in await asyncio.to_thread(_pending, engine):
        if as_utc(notice.created_at) < now - WAIT_AT_MOST:
            await asyncio.to_thread(ledger.skip, engine, notice.key, notice.learner_id, KIND,
                                    "waited too long for an allowed time (paused or over the cap)", now)
            continue
        with speaking(await asyncio.to_thread(language_of, engine, notice.learner_id)):
            reply = message(notice, now, zone)
        sent += await send_if_allowed(engine, delivery, notice.learner_id, reply, notice.key, KIND, now, cap)
    return sent


def _pending(engine: Engine) -> list[tuple[GapNotice, str]]:
    settled = select(NudgeDelivery.key).where(NudgeDelivery.key == GapNotice.key)
    with session(engine) as db:
        rows = db.exec(select(GapNotice, Learner.timezone)
                       .join(Need, Need.id == GapNotice.need_id)  # gone with "forget me": never told
                       .outerjoin(Learner, Learner.id == GapNotice.learner_id)
                       .where(~settled.exists())
                       .order_by(GapNotice.created_at, GapNotice.key)).all()
    return [(notice, zone or "UTC") for notice, zone in rows]


def message(notice: GapNotice, now: datetime, zone: str = "UTC") -> Reply:
    """"Last week you asked ...; here is the answer now", then the answer as it would be given today, with its
    citations (rendered by each connector as for any answer)."""
    answer = notice.reply
    citations = [Citation(**{**c, "updated_at": datetime.fromisoformat(c["updated_at"])})
                 for c in answer.get("citations", [])]
    intro = _("{when} you asked: “{question}”. Here is the answer now:").format(
        when=when_asked(as_utc(notice.asked_at), now, zone), question=notice.question)
    text = f"{intro}\n\n{answer['text']}\n\n{_(FOOTER)}"
    return Reply(text=text, citations=citations, mode=answer.get("mode", "extractive"),
                 notice=answer.get("notice", ""))


def when_asked(asked_at: datetime, now: datetime, zone: str = "UTC") -> str:
    """"Earlier today", "Yesterday", "On Tuesday", "Last week", "On 3 March", in the learner's time zone."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    asked, today = asked_at.astimezone(tz).date(), now.astimezone(tz).date()
    days = (today - asked).days
    if days <= 0:
        return _("Earlier today")
    if days == 1:
        return _("Yesterday")
    if days < 7 and asked.weekday() < today.weekday():
        return _("On {weekday}").format(weekday=_(WEEKDAYS[asked.weekday()]))
    if _monday(asked) == _monday(today) - timedelta(weeks=1):
        return _("Last week")
    month = _(MONTHS[asked.month - 1])  # not strftime: that follows the server's locale
    if asked.year != today.year:
        return _("On {day} {month} {year}").format(day=asked.day, month=month, year=asked.year)
    return _("On {day} {month}").format(day=asked.day, month=month)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
