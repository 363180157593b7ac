"""The reminder ladder for a lesson a manager's nudge sent and the learner has not answered: a reminder a day
later, another two days after that, and four days after that - if the learner has not been in touch with the coach at
all since the lesson arrived - nudges pause themselves, with a one-tap resume. A learner who is active but skips
this one lesson is not paused: the ladder simply ends. Every rung goes through the ledger (once) and the
allowed-times policy (quiet hours, days off, the daily cap; a paused learner gets nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.i18n import _, ngettext, speaking
from coach.learners import language_of
from coach.lessons import catalog
from coach.messages import Action, Reply
from coach.nudges.policy import FOOTER
from kernel.store import as_utc, session
from coach.store.models import LessonAttempt, LessonOffer, Need, NudgeDelivery

SENT_REASON = "nudge: "  # LessonOffer.reason of a lesson a manager's nudge delivered
GAPS = (timedelta(days=1), timedelta(days=2), timedelta(days=4))  # growing; the last rung is the pause
PAUSE_RUNG = len(GAPS)


def record_sent(engine: Engine, learner_id: str, lesson_key: str, owner: str, at: datetime) -> None:
    """A nudge put this lesson in front of the learner: the ladder starts from here."""
    with session(engine) as db:
        db.add(LessonOffer(learner_id=learner_id, lesson_key=lesson_key, reason=(SENT_REASON + owner)[:300],
                           offered_at=at))
        db.commit()


def due_rungs(engine: Engine, now: datetime) -> list[tuple[str, Reply | None, str, int]]:
    """(learner, reply, ledger key, rung) for every ladder step due now: a rung is due its gap after the previous
    one went out (or the lesson, for the first). No reply: the ladder ends quietly (record the key as skipped)."""
    horizon = now - sum(GAPS, timedelta()) - timedelta(days=14)  # a ladder still unfinished by then is dropped
    with session(engine) as db:
        offers = db.exec(select(LessonOffer).where(LessonOffer.reason.startswith(SENT_REASON),
                                                   LessonOffer.offered_at >= horizon)).all()
        steps = {d.key: as_utc(d.updated_at) for d in db.exec(select(NudgeDelivery).where(
            NudgeDelivery.key.startswith("ladder:"), NudgeDelivery.created_at >= horizon)).all()}
    out = []
    for offer in offers:
        sent_at = as_utc(offer.offered_at)
        rung = next((n for n in range(1, PAUSE_RUNG + 1) if _key(offer, n) not in steps), None)
        if rung is None or now < steps.get(_key(offer, rung - 1), sent_at) + GAPS[rung - 1]:
            continue
        if _answered(engine, offer.learner_id, offer.lesson_key, sent_at):
            continue
        lesson = catalog.get(engine, offer.lesson_key)
        if lesson is None or lesson.status != "approved":
            continue
        with speaking(language_of(engine, offer.learner_id)):
            reply = _rung(engine, offer, lesson, rung, sent_at)
        out.append((offer.learner_id, reply, _key(offer, rung), rung))
    return out


def _rung(engine: Engine, offer: LessonOffer, lesson, rung: int, sent_at: datetime) -> Reply | None:
    """The reminder for this rung, the auto-pause message for the last, or None (active: the ladder ends)."""
    if rung < PAUSE_RUNG:
        text = ngettext("**{title}** is still waiting for you: {minutes} minute and one question.",
                        "**{title}** is still waiting for you: {minutes} minutes and one question.",
                        lesson.minutes).format(title=lesson.title, minutes=lesson.minutes)
        return Reply(text=f"{text}\n\n{_(FOOTER)}", mode="service",
                     actions=[Action("lesson", _("Start the lesson"), lesson.key)])
    if _active_since(engine, offer.learner_id, sent_at):
        return None  # they use the coach, just not this lesson: the ladder ends here without a pause
    return Reply(text=_("You haven't had time for the last lessons, so I've paused my nudges and reminders. Tap "
                        "*Resume* whenever you want them back; you can still ask me anything."), mode="service",
                 actions=[Action("resume", _("Resume nudges"))])


def _key(offer: LessonOffer, rung: int) -> str:
    return f"ladder:{offer.id}:{rung}"


def _answered(engine: Engine, learner_id: str, lesson_key: str, since: datetime) -> bool:
    with session(engine) as db:
        return db.exec(select(LessonAttempt.id).where(LessonAttempt.learner_id == learner_id,
                                                      LessonAttempt.lesson_key == lesson_key,
                                                      LessonAttempt.at >= since)).first() is not None


def _active_since(engine: Engine, learner_id: str, since: datetime) -> bool:
    """Asked anything, or answered any lesson, since then."""
    with session(engine) as db:
        asked = db.exec(select(Need.id).where(Need.learner_id == learner_id, Need.created_at >= since)).first()
        answered = db.exec(select(LessonAttempt.id).where(LessonAttempt.learner_id == learner_id,
                                                          LessonAttempt.at >= since)).first()
    return asked is not None or answered is not None
