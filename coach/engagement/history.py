"""What the impact report reads, read once: the scope's learners and their teams, the lessons, and the questions,
quiz answers, spaced reviews, review cards and team focus around the period.

The impact parts (effect.py, mastery.py, deflection.py, alignment.py) are pure functions over this, so each is
tested on a history built by hand, and the report costs a handful of queries whatever it holds. Only the columns
needed to count are read: never a question's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.engagement.scope import UNTAGGED, Scope
from kernel.store import as_utc, session
from coach.store.models import Learner, Lesson, LessonAttempt, Need, ReviewCard, ReviewLogEntry, TeamFocus

LOOK_BACK = timedelta(days=30)  # questions before the period are read: the prior rate of a lesson taken early in it


@dataclass(frozen=True)
class Question:
    learner_id: str
    at: datetime
    topics: tuple[str, ...]
    answered: bool
    helpful: bool


@dataclass(frozen=True)
class Attempt:
    learner_id: str
    lesson_key: str
    at: datetime
    correct: bool


@dataclass(frozen=True)
class Card:
    learner_id: str
    lesson_key: str
    card: dict
    last_review: datetime


@dataclass
class History:
    teams: dict[str, str]  # learner id -> team ("" without one), the scope's learners only
    lessons: dict[str, tuple[str, tuple[str, ...]]]  # lesson key -> (title, competencies)
    questions: list[Question] = field(default_factory=list)  # from LOOK_BACK before the period to its end
    attempts: list[Attempt] = field(default_factory=list)  # every quiz answer before the period's end, by time
    reviews: list[tuple[str, str, datetime]] = field(default_factory=list)  # (learner, lesson, at) after the first
    cards: list[Card] = field(default_factory=list)
    focus: dict[str, tuple[str, ...]] = field(default_factory=dict)  # team -> its focus competencies

    def competencies(self, lesson_key: str) -> tuple[str, ...]:
        return self.lessons.get(lesson_key, ("", ()))[1]

    def title(self, lesson_key: str) -> str:
        return self.lessons.get(lesson_key, (lesson_key, ()))[0]


def read(engine: Engine, scope: Scope) -> History:
    """The history of the scope's teams (everyone without a team filter), up to the period's end."""
    with session(engine) as db:
        people = select(Learner.id, Learner.team)
        if scope.teams:
            people = people.where(Learner.team.in_(scope.teams))
        teams = {learner_id: team or "" for learner_id, team in db.exec(people).all()}
        lessons = {key: (title, tuple(tags or [])) for key, title, tags in
                   db.exec(select(Lesson.key, Lesson.title, Lesson.competencies)).all()}
        needs = db.exec(scope.members(select(
            Need.learner_id, Need.created_at, Need.topics, Need.answered, Need.feedback).where(
            Need.created_at >= scope.since - LOOK_BACK, Need.created_at < scope.until), Need.learner_id)).all()
        attempts = db.exec(scope.members(select(
            LessonAttempt.learner_id, LessonAttempt.lesson_key, LessonAttempt.at, LessonAttempt.correct).where(
            LessonAttempt.at < scope.until), LessonAttempt.learner_id)).all()
        logged = db.exec(scope.members(select(
            ReviewLogEntry.learner_id, ReviewLogEntry.lesson_key, ReviewLogEntry.reviewed_at).where(
            ReviewLogEntry.reviewed_at < scope.until), ReviewLogEntry.learner_id)).all()
        cards = db.exec(scope.members(select(
            ReviewCard.learner_id, ReviewCard.lesson_key, ReviewCard.card, ReviewCard.last_review),
            ReviewCard.learner_id)).all()
        focus = {team: tuple(tags or []) for team, tags in db.exec(select(TeamFocus.team, TeamFocus.competencies))}
    history = History(teams=teams, lessons=lessons, focus=focus)
    history.questions = sorted((Question(learner_id, as_utc(at), tuple(topics or []) or (UNTAGGED,), bool(answered),
                                         feedback == "helpful")
                                for learner_id, at, topics, answered, feedback in needs if learner_id in teams),
                               key=lambda q: q.at)
    history.attempts = sorted((Attempt(learner_id, key, as_utc(at), bool(correct))
                               for learner_id, key, at, correct in attempts if learner_id in teams),
                              key=lambda a: a.at)
    first_review: dict[tuple[str, str], datetime] = {}
    for learner_id, key, at in sorted(logged, key=lambda row: as_utc(row[2])):
        first_review.setdefault((learner_id, key), as_utc(at))
    history.reviews = [(learner_id, key, as_utc(at)) for learner_id, key, at in logged
                       if learner_id in teams and as_utc(at) != first_review[(learner_id, key)]]
    history.cards = [Card(learner_id, key, dict(card or {}), as_utc(last)) for learner_id, key, card, last in cards
                     if learner_id in teams and card]
    return history
