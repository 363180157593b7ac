"""Micro-lessons for one learner: what to take next and why, the lesson as a connector-neutral reply, grading the
quiz answer with a spaced review scheduled, stuck detection, and what the learner's profile shows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.competencies import Framework
from kernel.errors import NotFound
from coach.i18n import MONTHS, WEEKDAYS, _
from coach.lessons import catalog, review
from coach.messages import Action, Citation, Reply
from kernel.store import as_utc, session, utcnow
from coach.store.models import (Learner, Lesson, LessonAttempt, LessonOffer, Need, ReviewCard, ReviewLogEntry,
                                TeamFocus, TopicFlag)
from coach.suggestions import LearnerSignals, LessonInfo, Suggestion, rank
from kernel.text import shorten

WINDOW = timedelta(days=30)  # the needs and quiz answers that count towards a suggestion
POPULAR_TTL = timedelta(minutes=10)
FOLLOW_UP_REASON = "after your question about "  # the offers the worker follows up the next working day
STUCK_QUESTIONS, STUCK_QUESTIONS_WITHIN = 3, timedelta(hours=2)
STUCK_WRONG, STUCK_WRONG_WITHIN = 2, timedelta(days=14)
LETTERS = "ABCDEF"


class Lessons:
    def __init__(self, engine: Engine, framework: Framework, human_contact: str,
                 clock: Callable[[], datetime] = utcnow, find_source: Callable[[str], object | None] | None = None):
        self.engine, self.framework, self.human_contact, self.clock = engine, framework, human_contact, clock
        self.find_source = find_source  # a lesson's `sources` entry -> the knowledge base's source, if any
        self._popular_cache: tuple[datetime, dict[str, float]] | None = None

    # --- what next ---------------------------------------------------------------------------------------------

    def suggest(self, learner_id: str, k: int = 3) -> list[Suggestion]:
        return self._ranked(learner_id, k)[0]

    def _ranked(self, learner_id: str, k: int, everyone_only: bool = False) -> tuple[list[Suggestion], dict[str, Lesson]]:
        """The k best lessons, and every lesson open to this learner by key (callers need their details);
        `everyone_only`: only lessons for everyone, whatever groups the learner is in."""
        learner = self._learner(learner_id)
        groups = list(learner.groups) if learner and not everyone_only else []
        lessons = {l.key: l for l in catalog.published(self.engine, groups)}
        infos = [LessonInfo(l.key, l.title, tuple(l.competencies), l.minutes) for l in lessons.values()]
        return rank(infos, self.signals(learner_id, learner), k), lessons

    def signals(self, learner_id: str, learner: Learner | None) -> LearnerSignals:
        now = self.clock()
        since = now - WINDOW
        with session(self.engine) as db:
            needs = db.exec(select(Need).where(Need.learner_id == learner_id, Need.created_at >= since)).all()
            cards = db.exec(select(ReviewCard).where(ReviewCard.learner_id == learner_id)).all()
            focus = db.get(TeamFocus, learner.team) if learner and learner.team else None
        due = {c.lesson_key: max(0, (now - as_utc(c.last_review)).days) for c in cards if as_utc(c.due) <= now}
        minutes = (learner.preferences or {}).get("lesson_minutes") if learner else None
        return LearnerSignals(
            asked=Counter(t for n in needs for t in n.topics),
            unanswered=Counter(t for n in needs if not n.answered for t in n.topics),
            wrong=self._missed(learner_id, since),
            due=due, done=frozenset(c.lesson_key for c in cards),
            focus=tuple(focus.competencies) if focus else (), preferred_minutes=int(minutes) if minutes else None,
            popular=self._popular(now),
            names={c.id: c.name for c in self.framework.competencies})

    def _popular(self, now: datetime) -> dict[str, float]:
        """What everyone asked about in the window, as shares of the most-asked topic; counted at most every
        POPULAR_TTL (it reads every need in the window, and answers ask for it each time)."""
        if self._popular_cache and abs(now - self._popular_cache[0]) < POPULAR_TTL:
            return self._popular_cache[1]
        with session(self.engine) as db:
            counts = Counter(t for topics in db.exec(select(Need.topics).where(Need.created_at >= now - WINDOW)).all()
                             for t in topics)
        top = max(counts.values(), default=0)
        shares = {c: n / top for c, n in counts.items()} if top else {}
        self._popular_cache = (now, shares)
        return shares

    def suggestion_reply(self, learner_id: str) -> Reply:
        """"What should I learn next?": up to three lessons, each with why, and a button to start each."""
        suggestions, lessons = self._ranked(learner_id, 3)
        if not lessons:
            return Reply(text=_("No micro-lessons are published yet: L&D adds them. Meanwhile, ask me anything "
                                "about your work."), mode="service")
        suggestions = suggestions or self.starters(learner_id, list(lessons.values()))
        if not suggestions:
            return Reply(text=_("You have done every lesson open to you, and none is due for review yet. Nice work!"),
                         mode="service")
        lines = [_("Here is what I suggest next:")]
        for i, s in enumerate(suggestions, 1):
            lines.append(_("{number}. **{title}** ({minutes} min): {reason}").format(
                number=i, title=s.title, minutes=lessons[s.key].minutes, reason=s.reason))
            self._offer(learner_id, s.key, s.reason)
        return Reply(text="\n".join(lines), mode="service",
                     actions=[Action("lesson", shorten(_("Start: {title}").format(title=s.title), 75), s.key)
                              for s in suggestions])

    def starters(self, learner_id: str, lessons: list[Lesson], k: int = 3) -> list[Suggestion]:
        """Nothing personal to go on yet: what colleagues asked most about this month, else the shortest lessons."""
        with session(self.engine) as db:
            done = set(db.exec(select(ReviewCard.lesson_key).where(ReviewCard.learner_id == learner_id)).all())
        asked = self._popular(self.clock())
        fresh = [l for l in lessons if l.key not in done]
        fresh.sort(key=lambda l: (-max((asked.get(c, 0) for c in l.competencies), default=0), l.minutes, l.title))
        return [Suggestion(l.key, l.title, 0.0, _("what colleagues ask about most this month")
                           if any(asked.get(c) for c in l.competencies) else _("a short one to start with"))
                for l in fresh[:k]]

    def for_need(self, learner_id: str, topics: list[str], everyone_only: bool = False) -> Action | None:
        """After an answer: the best lesson on the question's topics, offered once, as a button."""
        if not topics:
            return None
        suggestions, lessons = self._ranked(learner_id, 10, everyone_only)
        best = next((s for s in suggestions if set(topics) & set(lessons[s.key].competencies)), None)
        if best is None:
            return None
        self._offer(learner_id, best.key, FOLLOW_UP_REASON + self._name(topics[0]))
        return Action("lesson", shorten(_("Micro-lesson: {title}").format(title=best.title), 75), best.key)

    # --- the lesson and its quiz -------------------------------------------------------------------------------

    def start(self, learner_id: str, key: str) -> Reply:
        lesson = self._lesson_for(learner_id, key)
        options = "\n".join(f"- **{LETTERS[i]}.** {o['text']}" for i, o in enumerate(lesson.options))
        text = _("**{title}** ({minutes} min)\n\n{body}\n\n**Quick check:** {question}\n{options}").format(
            title=lesson.title, minutes=lesson.minutes, body=lesson.body.strip(), question=lesson.question,
            options=options)
        with session(self.engine) as db:
            offer = db.exec(select(LessonOffer).where(LessonOffer.learner_id == learner_id,
                                                      LessonOffer.lesson_key == key,
                                                      LessonOffer.started_at == None)).first()  # noqa: E711
            offer = offer or LessonOffer(learner_id=learner_id, lesson_key=key, reason="asked for it")
            offer.started_at = self.clock()
            db.add(offer)
            db.commit()
        return Reply(text=text, mode="service", citations=self._sources(learner_id, lesson),
                     actions=[Action("answer", shorten(f"{LETTERS[i]}. {o['text']}", 75), f"{key}:{i}")
                              for i, o in enumerate(lesson.options)])

    def _sources(self, learner_id: str, lesson: Lesson) -> list[Citation]:
        """The content the lesson comes from, as sources to open: only what this learner may see."""
        allowed = {"everyone", *self._groups(learner_id)}
        found = [self.find_source(ref) for ref in lesson.sources] if self.find_source else []
        shown = [s for s in found if s is not None and allowed & set(s.audience)]
        return [Citation(n=i, source_id=s.id, chunk_id="", title=s.title, where="", link=s.link,
                         updated_at=s.updated_at) for i, s in enumerate(shown, 1)]

    def answer(self, learner_id: str, value: str) -> Reply:
        key, _sep, chosen = value.rpartition(":")
        lesson = self._lesson_for(learner_id, key)
        if not chosen.isdigit() or int(chosen) >= len(lesson.options):
            raise ValueError(_("That answer is not one of the lesson's options."))
        chosen_i, now = int(chosen), self.clock()
        right = chosen_i == lesson.correct
        learner = self._learner(learner_id)
        window = review.Window.of(learner.timezone, learner.preferences or {}) if learner else review.Window()
        with session(self.engine) as db:
            card = db.get(ReviewCard, (learner_id, key))
            state, log, due = review.review(card.card if card else None, right, now, window)
            card = card or ReviewCard(learner_id=learner_id, lesson_key=key, due=due, last_review=now)
            card.card, card.due, card.last_review = state, due, now
            db.add_all([card, LessonAttempt(learner_id=learner_id, lesson_key=key, chosen=chosen_i, correct=right,
                                            at=now),
                        ReviewLogEntry(learner_id=learner_id, lesson_key=key, rating=log["rating"], reviewed_at=now)])
            db.commit()
        option = lesson.options[chosen_i]
        lines = [(_("Right!") if right else _("Not quite: the answer is **{letter}**.").format(
                     letter=LETTERS[lesson.correct])) + (f" {option['feedback']}" if option.get("feedback") else ""),
                 _("**Why:** {explanation}").format(explanation=lesson.explanation) if lesson.explanation else "",
                 _("I'll bring it back for a quick review on {day}.").format(day=_day(due, window.timezone))]
        actions = []
        if not right and (expert := self.stuck_on_quiz(learner_id, lesson, now)):
            lines.append(expert)
            actions.append(Action("ask_human", _("Ask a person")))
        following = next((s for s in self.suggest(learner_id) if s.key != key), None)
        if following:
            actions.append(Action("lesson", shorten(_("Next: {title}").format(title=following.title), 75), following.key))
        return Reply(text="\n\n".join(line for line in lines if line), mode="service", actions=actions)

    # --- stuck -------------------------------------------------------------------------------------------------

    def stuck_on_questions(self, learner_id: str, topics: list[str]) -> str:
        """Several questions on one topic in a short time: offer a person, flag the topic for L&D (once per run)."""
        since = self.clock() - STUCK_QUESTIONS_WITHIN
        with session(self.engine) as db:
            recent = db.exec(select(Need.topics).where(Need.learner_id == learner_id, Need.created_at >= since)).all()
        counts = Counter(t for topics_ in recent for t in topics_)
        stuck = next((t for t in topics if counts[t] == STUCK_QUESTIONS), None)
        return self._stuck(stuck, "repeated_questions") if stuck else ""

    def stuck_on_quiz(self, learner_id: str, lesson: Lesson, now: datetime) -> str:
        counts = self._missed(learner_id, now - STUCK_WRONG_WITHIN)
        stuck = next((c for c in lesson.competencies if counts[c] == STUCK_WRONG), None)
        return self._stuck(stuck, "repeated_wrong_answers") if stuck else ""

    def _stuck(self, competency: str, reason: str) -> str:
        with session(self.engine) as db:
            db.add(TopicFlag(competency=competency, reason=reason))
            db.commit()
        experts = self.framework.experts(competency)
        who = ", ".join(experts) if experts else self.human_contact or _("the L&D team")
        return _("This one seems tricky: for {topic}, {who} can help you in person. I've also let L&D know the topic "
                 "needs attention (without your name).").format(topic=self._name(competency), who=who)

    # --- helpers -----------------------------------------------------------------------------------------------

    def _lesson_for(self, learner_id: str, key: str) -> Lesson:
        lesson = catalog.get(self.engine, key)
        if lesson is None or lesson.status != "approved" or not (
                {"everyone", *self._groups(learner_id)} & set(lesson.audience)):
            raise NotFound(_("That lesson is not available (any more)."))
        return lesson

    def _missed(self, learner_id: str, since: datetime) -> Counter:
        """Competency -> quiz answers this learner got wrong since then."""
        with session(self.engine) as db:
            misses = db.exec(select(Lesson.competencies).join(LessonAttempt, LessonAttempt.lesson_key == Lesson.key)
                             .where(LessonAttempt.learner_id == learner_id, LessonAttempt.correct == False,  # noqa: E712
                                    LessonAttempt.at >= since)).all()
        return Counter(c for competencies in misses for c in competencies)

    def _offer(self, learner_id: str, key: str, reason: str) -> None:
        with session(self.engine) as db:
            db.add(LessonOffer(learner_id=learner_id, lesson_key=key, reason=reason[:300]))
            db.commit()

    def _learner(self, learner_id: str) -> Learner | None:
        with session(self.engine) as db:
            return db.get(Learner, learner_id)

    def _groups(self, learner_id: str) -> list[str]:
        learner = self._learner(learner_id)
        return list(learner.groups) if learner else []

    def _name(self, competency: str) -> str:
        return next((c.name for c in self.framework.competencies if c.id == competency), competency).lower()


def progress(engine: Engine, learner_id: str, now: datetime) -> dict:
    """The learner's lessons, for their profile and export: done, quiz answers, due now, next review."""
    with session(engine) as db:
        cards = db.exec(select(ReviewCard).where(ReviewCard.learner_id == learner_id)).all()
        attempts = db.exec(select(LessonAttempt).where(LessonAttempt.learner_id == learner_id)).all()
    upcoming = min((as_utc(c.due) for c in cards), default=None)
    return {"lessons_done": sorted({a.lesson_key for a in attempts}),
            "quiz_answers": {"right": sum(a.correct for a in attempts), "wrong": sum(not a.correct for a in attempts)},
            "due_now": sorted(c.lesson_key for c in cards if as_utc(c.due) <= now),
            "next_review": upcoming.isoformat() if upcoming else None}


def forget(engine: Engine, learner_id: str) -> int:
    """Delete the learner's quiz answers, review cards and logs, and lesson offers."""
    removed = 0
    with session(engine) as db:
        for table in (LessonAttempt, ReviewCard, ReviewLogEntry, LessonOffer):
            removed += db.exec(delete(table).where(table.learner_id == learner_id)).rowcount
        db.commit()
    return removed


def _day(when: datetime, timezone: str) -> str:
    """"Monday 30 November" in the learner's time zone (not strftime: that follows the server's locale)."""
    local = when.astimezone(ZoneInfo(timezone or "UTC"))
    return _("{weekday} {day} {month}").format(weekday=_(WEEKDAYS[local.weekday()]), day=local.day,
                                               month=_(MONTHS[local.month - 1]))
