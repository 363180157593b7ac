"""Statements made from the domain's own rows, in the transaction that writes them.

Every writer (the app's replicas, the worker, the CLI) already records what a learner did as rows: a `Need` for a
question and its rating, a `LessonOffer` started, a `LessonAttempt`, a `NudgeDelivery` sent. A listener on the ORM's
flush turns those rows into outbox rows in the same transaction (the transactional outbox), so a statement exists
exactly when its fact does and no use case has to remember to send one. Engines opt in with `attach` (the
composition root does when `XAPI_ENDPOINT` is set); a session marked `info["xapi"] = False` (demo data) is never
recorded. Bulk `delete()`s bypass the ORM and are handled where they happen (`outbox.forget`).
"""

from __future__ import annotations

import uuid
import weakref
from datetime import datetime, timedelta

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import select

from coach import demo_data
from coach.store.models import Learner, Lesson, LessonAttempt, LessonOffer, Need, NudgeDelivery, XapiStatement
from coach.xapi import vocabulary as v
from coach.xapi.profile import Profile, verb
from coach.xapi.statements import Activity, Context, ContextActivities, Definition, Result, Score, Statement, \
    StatementRef, timestamp
from kernel.store import as_utc, session

ACTED_WITHIN = timedelta(hours=24)  # as the engagement report counts a nudge acted on (coach/engagement/nudging.py)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
REGISTRATION = uuid.UUID("6f1c7f4e-1d0a-4c55-9a8e-3c0f5a6b2d10")  # the namespace of lesson attempts' registrations
_profiles: "weakref.WeakKeyDictionary[Engine, Profile]" = weakref.WeakKeyDictionary()


def attach(engine: Engine, profile: Profile) -> None:
    _profiles[engine] = profile


def detach(engine: Engine) -> None:
    _profiles.pop(engine, None)


def profile_of(engine: Engine) -> Profile | None:
    return _profiles.get(engine)


def read_source(engine: Engine, *, learner_id: str, source_id: str, title: str, need_id: str = "",
                platform: str = "") -> None:
    """A learner opened a cited source (through the coach's link, which checked their audience first)."""
    profile = _profiles.get(engine)
    if profile is None:
        return
    with session(engine) as db:
        _Capture(db, profile).source(learner_id, source_id, title, need_id, platform)
        db.commit()


@event.listens_for(Session, "before_flush")
def _before_flush(db: Session, _context, _instances) -> None:
    if not _profiles or db.bind is None:  # learning records off in this process, or a session of another kind
        return
    profile = _profiles.get(getattr(db.bind, "engine", db.bind))
    if profile is None or db.info.get("xapi") is False:
        return
    capture = _Capture(db, profile)
    for row in list(db.new):
        capture.new(row)
    for row in list(db.dirty):
        capture.changed(row)


def _changed_to(row, attribute: str):
    """The attribute's new value when this flush changes it, else None."""
    history = inspect(row).attrs[attribute].history
    return history.added[0] if history.has_changes() and history.added else None


class _Capture:
    def __init__(self, db: Session, profile: Profile) -> None:
        self.db, self.p = db, profile
        self.acted: set[str] = set()  # nudges marked acted on in this flush

    # --- which rows say what ---------------------------------------------------------------------------------

    def new(self, row) -> None:
        if isinstance(row, Need):
            self.asked(row)
        elif isinstance(row, LessonAttempt):
            self.answered(row)
        elif isinstance(row, LessonOffer) and row.started_at is not None:
            self.launched(row)
        elif isinstance(row, NudgeDelivery) and row.state == "sent":
            self.received(row)

    def changed(self, row) -> None:
        if isinstance(row, Need) and _changed_to(row, "feedback"):
            self.rated(row)
        elif isinstance(row, LessonOffer) and _changed_to(row, "started_at") is not None:
            self.launched(row)
        elif isinstance(row, NudgeDelivery) and _changed_to(row, "state") == "sent":
            self.received(row)

    # --- the statements ----------------------------------------------------------------------------------------

    def asked(self, need: Need) -> None:
        outcome = "declined" if not need.answered else "partly answered" if need.not_covered else "answered"
        lang = self._language(need.learner_id)
        question = self.p.activity(v.QUESTION, "questions", need.id, lang=lang,
                                   name=need.question if self.p.include_question else "")
        result = Result(success=need.answered, response=need.question if self.p.include_question else None,
                        extensions={self.p.iri("extensions", "outcome"): outcome,
                                    self.p.iri("extensions", "confidence"): need.confidence})
        self.add(need.learner_id, "asked", need.id, question, need.created_at, result=result,
                 context=self._context(need.learner_id, need.topics, need.platform, lang,
                                       channel=need.channel, not_covered=len(need.not_covered)))

    def rated(self, need: Need) -> None:
        asked = self.db.exec(select(XapiStatement.id).where(XapiStatement.ref == need.id,
                                                            XapiStatement.verb == "asked")).first()
        helpful = need.feedback == "helpful"
        context = self._context(need.learner_id, need.topics, need.platform)
        if asked:
            context.statement = StatementRef(id=asked)
        self.add(need.learner_id, "rated", need.id, self.p.activity(v.QUESTION, "questions", need.id),
                 need.feedback_at, result=Result(response=need.feedback, score=Score(scaled=1.0 if helpful else 0.0,
                                                                                      raw=int(helpful), min=0, max=1)),
                 context=context)

    def launched(self, offer: LessonOffer) -> None:
        lesson = self.db.get(Lesson, offer.lesson_key)
        self.add(offer.learner_id, "launched", offer.lesson_key, self._lesson(lesson, offer.lesson_key),
                 offer.started_at, context=self._context(offer.learner_id, lesson.competencies if lesson else [],
                                                         registration=_registration(offer)))

    def answered(self, attempt: LessonAttempt) -> None:
        """Every quiz answer is `answered`; the first one of a lesson also `completed` it; later ones are spaced
        reviews (in the review category)."""
        lesson = self.db.get(Lesson, attempt.lesson_key)
        earlier = self.db.exec(select(LessonAttempt.id).where(LessonAttempt.learner_id == attempt.learner_id,
                                                              LessonAttempt.lesson_key == attempt.lesson_key,
                                                              LessonAttempt.id != None)).all()  # noqa: E711
        offer = self.db.exec(select(LessonOffer).where(
            LessonOffer.learner_id == attempt.learner_id, LessonOffer.lesson_key == attempt.lesson_key,
            LessonOffer.started_at != None).order_by(LessonOffer.started_at.desc())).first()  # noqa: E711
        competencies = lesson.competencies if lesson else []
        registration = _registration(offer) if offer and not earlier else None
        score = Score(scaled=float(attempt.correct), raw=int(attempt.correct), min=0, max=1)
        quiz = self._quiz(lesson, attempt.lesson_key)
        result = Result(success=attempt.correct, response=LETTERS[attempt.chosen] if attempt.chosen < 26 else None,
                        score=score)
        context = self._context(attempt.learner_id, competencies, registration=registration,
                                parent=self._lesson(lesson, attempt.lesson_key), review=len(earlier) or None)
        self.add(attempt.learner_id, "answered", attempt.lesson_key, quiz, attempt.at, result=result,
                 context=context)
        if not earlier:
            duration = None
            if offer is not None:
                seconds = max(0, int((as_utc(attempt.at) - as_utc(offer.started_at)).total_seconds()))
                duration = f"PT{seconds}S"
            self.add(attempt.learner_id, "completed", attempt.lesson_key, self._lesson(lesson, attempt.lesson_key),
                     attempt.at, result=Result(completion=True, success=attempt.correct, score=score,
                                               duration=duration),
                     context=self._context(attempt.learner_id, competencies, registration=registration))

    def received(self, delivery: NudgeDelivery) -> None:
        parts = ("nudges", "schedules", delivery.key.split(":", 1)[0]) if delivery.kind == "nudge" else \
            ("nudges", delivery.kind)
        message = self.p.activity(v.MESSAGE, *parts, name=delivery.kind.replace("_", " "))
        self.add(delivery.learner_id, "received", delivery.key, message, delivery.updated_at,
                 context=self._context(delivery.learner_id, [], kind=delivery.kind), acts=False)

    def source(self, learner_id: str, source_id: str, title: str, need_id: str, platform: str) -> None:
        document = self.p.activity(v.DOCUMENT, "sources", source_id, name=title)
        context = self._context(learner_id, [], platform)
        if need_id:
            context.contextActivities.parent = [self.p.activity(v.QUESTION, "questions", need_id)]
        self.add(learner_id, "experienced", need_id or source_id, document, None, context=context)

    # --- helpers -----------------------------------------------------------------------------------------------

    def add(self, learner_id: str, name: str, ref: str, obj, when: datetime | None, *, result: Result | None = None,
            context: Context | None = None, acts: bool = True) -> Statement | None:
        if demo_data.is_demo(learner_id):  # simulated people never leave the product, whichever session wrote them
            return None
        when = as_utc(when) if when else datetime.now().astimezone()
        statement = Statement(id=str(uuid.uuid4()), actor=self.p.actor(learner_id), verb=verb(name), object=obj,
                              result=result, context=context, timestamp=timestamp(when))
        self.db.add(XapiStatement(id=statement.id, learner_id=learner_id, verb=name, ref=ref[:250],
                                  statement=statement.as_json(), created_at=when, next_at=when))
        if acts:
            self._acted_on(learner_id, when, statement.id)
        return statement

    def _acted_on(self, learner_id: str, when: datetime, by: str) -> None:
        """A nudge sent to this learner within ACTED_WITHIN before this, not yet acted on: now it is."""
        sent = self.db.exec(select(NudgeDelivery.key).where(
            NudgeDelivery.learner_id == learner_id, NudgeDelivery.state == "sent",
            NudgeDelivery.updated_at >= when - ACTED_WITHIN, NudgeDelivery.updated_at <= when)).all()
        fresh = [key for key in sent if key not in self.acted]
        if not fresh:
            return
        done = set(self.db.exec(select(XapiStatement.ref).where(XapiStatement.learner_id == learner_id,
                                                                XapiStatement.verb == "interacted",
                                                                XapiStatement.ref.in_(fresh))).all())
        for key in fresh:
            self.acted.add(key)
            if key in done:
                continue
            received = self.db.exec(select(XapiStatement).where(XapiStatement.ref == key,
                                                                XapiStatement.verb == "received")).first()
            if received is None:
                continue
            context = Context(statement=StatementRef(id=by))
            self.add(learner_id, "interacted", key, Activity.model_validate(received.statement["object"]), when,
                     context=context, acts=False)

    def _context(self, learner_id: str, competencies: list[str], platform: str = "", lang: str = "", *,
                 registration: str | None = None, parent: Activity | None = None, review: int | None = None,
                 **extensions) -> Context:
        platform = platform or v.platform_of(learner_id)
        grouping = [self.p.activity(v.OBJECTIVE, "competencies", c) for c in competencies] or None
        category = [Activity(id=self.p.iri(*v.REVIEW.split("/")))] if review else None
        ext = {self.p.iri("extensions", "competencies"): list(competencies)}
        ext.update({self.p.iri("extensions", k): value for k, value in extensions.items() if value is not None})
        if review:
            ext[self.p.iri("extensions", "review")] = review
        return Context(registration=registration, platform=v.PLATFORMS.get(platform, ("", platform))[1] or None,
                       language=lang or None, extensions=ext,
                       contextActivities=ContextActivities(parent=[parent or self._coach()], grouping=grouping,
                                                           category=category))

    def _coach(self) -> Activity:
        return Activity(id=self.p.base, definition=Definition(type=v.COACH, name={"en": "Learning coach"}))

    def _lesson(self, lesson: Lesson | None, key: str) -> Activity:
        return self.p.activity(v.LESSON, "lessons", key, name=lesson.title if lesson else "")

    def _quiz(self, lesson: Lesson | None, key: str) -> Activity:
        if lesson is None:
            return self.p.activity(v.INTERACTION, "lessons", key, "quiz", interactionType="choice")
        choices = [{"id": LETTERS[i], "description": {"en": o["text"]}} for i, o in enumerate(lesson.options[:26])]
        return self.p.activity(v.INTERACTION, "lessons", key, "quiz", name=lesson.question, interactionType="choice",
                               choices=choices, correctResponsesPattern=[LETTERS[lesson.correct]])

    def _language(self, learner_id: str) -> str:
        learner = self.db.get(Learner, learner_id)
        return learner.language if learner and learner.language else "en"


def _registration(offer: LessonOffer) -> str:
    """One attempt at a lesson: from its launch to its first quiz answer (derived, so both statements agree)."""
    return str(uuid.uuid5(REGISTRATION, f"{offer.learner_id}|{offer.lesson_key}|{as_utc(offer.started_at).isoformat()}"))
