"""Simulated history for a new install (`coach demo-data`), so every report has something to show before anyone has
used the coach: 60 people in five teams of Northwind Loom (the Rotterdam one Dutch), 90 days of questions with
ratings, lesson offers, starts and quiz answers with FSRS review cards, spaced reviews, nudges and team focus.

How it is kept apart from real data: every learner id, question id and delivery key starts with PREFIX, and the
team focus it sets carries `set_by` MARK (an existing team focus is never replaced), so `remove` deletes exactly
these rows and nothing else. Rows are written straight into the store, never through the services, so nothing is
emitted as a learning record (xAPI) and nothing reaches an LRS; the simulated people are paused, so no nudge or
review is ever sent to them. A fixed SEED makes the same history relative to `now` every time.

The simulation: each person has a question rate per competency (their team's mix, times a personal activity
level) and asks on working days; asking may bring a lesson offer (more questions, more offers, so those who take a
lesson differ from those who do not, as in life), and managers' nudges offer their team's focus lessons. For 30
days after completing a lesson a person asks fewer questions on its competency by the lesson's EFFECT (1.0: none),
so the impact report has true effects to find. Quiz answers are right with a probability that grows with FSRS's
predicted recall at each review.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import delete, select

from coach import demo_texts
from coach.lessons.review import retrievability, review
from kernel.store import session, utcnow
from coach.store.models import (ChatAddress, ConversationTurn, GapNotice, GapQuestion, Learner, Lesson,
                                LessonAttempt, LessonOffer, Need, NudgeDelivery, PostedAnswer, ReviewCard,
                                ReviewLogEntry, TeamFocus, WebExchange)

PREFIX = "demo-"
MARK = "demo-data"
SEED = 20
DAYS = 90
FOLLOW_UP = timedelta(days=30)


@dataclass(frozen=True)
class Team:
    name: str
    size: int
    language: str
    timezone: str
    platform: str
    rates: dict[str, float]  # competency -> questions per working day for an average member
    focus: tuple[str, ...]


TEAMS = (
    Team("Customer Support", 14, "en", "Europe/London", "slack",
         {"customer-service": .10, "expenses": .03, "information-security": .025, "feedback": .02,
          "onboarding": .02}, ("customer-service", "feedback")),
    Team("Sales", 12, "en", "Europe/London", "slack",
         {"expenses": .09, "customer-service": .04, "learning-and-development": .025, "feedback": .015},
         ("customer-service", "expenses")),
    Team("Finance", 10, "en", "Europe/London", "teams",
         {"expenses": .07, "information-security": .04, "learning-and-development": .02}, ("information-security",)),
    Team("People Team", 10, "en", "Europe/London", "teams",
         {"people-management": .07, "coaching": .06, "feedback": .04, "learning-and-development": .025},
         ("coaching", "people-management")),
    Team("Rotterdam", 14, "nl", "Europe/Amsterdam", "teams",
         {"expenses": .09, "onboarding": .05, "information-security": .025, "feedback": .02}, ("expenses",)),
)
# the questions-on-topic multiplier for 30 days after completing the lesson (the sample lessons; others: none)
EFFECT = {"per-diem-meals": .3, "thuiswerkvergoeding": .35, "refund-authority": .35, "report-phishing": .45,
          "sbi-feedback": .5, "one-on-one-rhythm": .55, "salary-conversation": .6, "training-budget-request": .8,
          "holiday-carry-over": 1.0}
OFFER_AFTER_QUESTION, START, START_NUDGED, REVIEW_DONE = .45, .7, .4, .8
RATE = 1.7  # all teams' rates at once: busier teams, so a lesson's effect can be told from chance
ON_REQUEST = .012  # the chance a day that someone asks "what should I learn next?" and opens a lesson
NUDGE_DAYS = (12, 40, 68, 82)  # days into the history a team's manager nudges its focus lessons


def is_demo(learner_id: str) -> bool:
    """Whether this learner is simulated (nothing about them may leave the product, e.g. as an xAPI statement)."""
    return learner_id.startswith(PREFIX)


def present(engine: Engine) -> bool:
    with session(engine) as db:
        return db.exec(select(Learner.id).where(Learner.id.startswith(PREFIX)).limit(1)).first() is not None


def seed(engine: Engine, *, now: datetime | None = None) -> dict[str, int]:
    """Replace any earlier demo data with a fresh simulated history ending at `now`; returns rows written per
    kind. Needs the lessons in the database (the sample lessons: `coach demo-data` loads them when missing)."""
    remove(engine)
    now = now or utcnow()
    with session(engine) as db:
        lessons = {key: tuple(tags or []) for key, tags in db.exec(
            select(Lesson.key, Lesson.competencies).where(Lesson.status == "approved")).all()}
        focused = set(db.exec(select(TeamFocus.team)).all())
    if not lessons:
        raise ValueError("There are no approved lessons to simulate: load the sample lessons first "
                         "(`coach lessons load examples/lessons`).")
    rows = _Simulation(random.Random(SEED), lessons, now).run()
    rows += [TeamFocus(team=team.name, competencies=list(team.focus), set_by=MARK, updated_at=now - timedelta(
        days=DAYS)) for team in TEAMS if team.name not in focused]
    counts: dict[str, int] = {}
    for row in rows:
        counts[type(row).__tablename__] = counts.get(type(row).__tablename__, 0) + 1
    with session(engine) as db:
        db.info["xapi"] = False  # never a learning record (coach/xapi/capture.py skips such a session)
        db.add_all(rows)
        db.commit()
    return counts


def remove(engine: Engine) -> dict[str, int]:
    """Delete every demo row (and what the product itself attached to demo people since, such as the gap report's
    vectors of their questions) and nothing else; returns rows deleted per table."""
    demo_need = Need.id.startswith(PREFIX)
    statements = [
        *((table, table.need_id.in_(select(Need.id).where(demo_need)))
          for table in (GapQuestion, GapNotice, PostedAnswer, ConversationTurn)),
        (Need, or_(demo_need, Need.learner_id.startswith(PREFIX))),
        *((table, table.learner_id.startswith(PREFIX)) for table in (
            LessonOffer, LessonAttempt, ReviewCard, ReviewLogEntry, ChatAddress, WebExchange, GapNotice)),
        (NudgeDelivery, or_(NudgeDelivery.key.startswith(PREFIX), NudgeDelivery.learner_id.startswith(PREFIX))),
        (TeamFocus, TeamFocus.set_by == MARK), (Learner, Learner.id.startswith(PREFIX))]
    deleted: dict[str, int] = {}
    with session(engine) as db:
        for table, where in statements:
            count = db.exec(delete(table).where(where)).rowcount
            deleted[table.__tablename__] = deleted.get(table.__tablename__, 0) + count
        db.commit()
    return {table: count for table, count in deleted.items() if count}


class _Simulation:
    """One run of the history: people, then day by day what they ask, are offered, learn and review."""

    def __init__(self, rng: random.Random, lessons: dict[str, tuple[str, ...]], now: datetime):
        self.rng, self.lessons, self.now = rng, lessons, now
        self.start = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.rows: list = []
        self.ids = 0
        self.keys: set[str] = set()  # delivery keys written (one review digest a day per person)

    def run(self) -> list:
        for team in TEAMS:
            slug = team.name.lower().replace(" ", "-")
            for n in range(team.size):
                learner_id = f"{PREFIX}{slug}-{n + 1:02d}"
                self.rows.append(Learner(id=learner_id, display_name=self._name(team.language), team=team.name,
                                         timezone=team.timezone, language=team.language, paused=True,
                                         created_at=self.start))
                self._person(learner_id, team)
        return self.rows

    def _name(self, language: str) -> str:
        return f"{self.rng.choice(demo_texts.FIRST_NAMES[language])} {self.rng.choice(demo_texts.LAST_NAMES[language])}"

    def _lesson_for(self, competency: str, team: Team) -> str | None:
        keys = sorted(key for key, tags in self.lessons.items() if competency in tags)
        dutch = [key for key in keys if key == "thuiswerkvergoeding"]
        if team.language == "nl" and dutch:
            return dutch[0]
        keys = [key for key in keys if key != "thuiswerkvergoeding"] or keys
        return keys[0] if keys else None

    def _person(self, learner_id: str, team: Team) -> None:
        activity = self.rng.lognormvariate(0, .3)
        completed: dict[str, datetime] = {}  # lesson -> when
        offered: set[str] = set()
        for day in range(DAYS):
            date = self.start + timedelta(days=day)
            if date.weekday() >= 5:
                continue
            if day in NUDGE_DAYS:
                for competency in team.focus:
                    key = self._lesson_for(competency, team)
                    if key and key not in completed:
                        self._offer(learner_id, key, date + timedelta(hours=9), f"nudge: {team.name} manager",
                                    START_NUDGED, completed, nudged=True)
            if self.rng.random() < ON_REQUEST * activity:
                competency = self.rng.choice(sorted(team.rates))
                key = self._lesson_for(competency, team)
                if key and key not in completed:
                    self._offer(learner_id, key, date + timedelta(hours=self.rng.uniform(8, 16)),
                                "asked what to learn next", 1.0, completed)
            for competency, rate in team.rates.items():
                rate *= RATE * activity * self._damping(competency, completed, date)
                for _ in range(self._poisson(rate)):
                    at = date + timedelta(hours=self.rng.uniform(7.5, 16.5))
                    self._question(learner_id, team, competency, at)
                    key = self._lesson_for(competency, team)
                    if key and key not in completed and key not in offered and \
                            self.rng.random() < OFFER_AFTER_QUESTION:
                        offered.add(key)
                        self._offer(learner_id, key, at + timedelta(minutes=1), "after your question about "
                                    f"{competency}", START, completed)

    def _damping(self, competency: str, completed: dict[str, datetime], date: datetime) -> float:
        factor = 1.0
        for key, at in completed.items():
            if competency in self.lessons.get(key, ()) and at <= date:
                effect = EFFECT.get(key, 1.0)
                factor *= effect if date < at + FOLLOW_UP else (1 + effect) / 2  # then fading halfway back
        return factor

    def _poisson(self, rate: float) -> int:
        count, threshold, product = 0, pow(2.718281828, -rate), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return count

    def _id(self) -> str:
        self.ids += 1
        return f"{PREFIX}{self.rng.getrandbits(64):016x}{self.ids:06d}"[:32]

    def _question(self, learner_id: str, team: Team, competency: str, at: datetime) -> None:
        if at >= self.now:
            return
        language = team.language
        gaps = demo_texts.GAPS[language].get(competency, [])
        declined = bool(gaps) and self.rng.random() < .14
        text = self.rng.choice(gaps if declined else demo_texts.ANSWERED[language][competency])
        roll = self.rng.random()
        feedback = (("helpful" if roll < .56 else "not_helpful" if roll < .66 else None) if not declined else
                    ("not_helpful" if roll < .25 else None))
        channel = self.rng.choices(["dm", "thread", "channel", "web"], [6, 2, 1, 1])[0]
        self.rows.append(Need(
            id=self._id(), learner_id=learner_id, channel=channel,
            platform="web" if channel == "web" else team.platform, question=text, topics=[competency],
            answered=not declined, confidence=round(self.rng.uniform(.1, .45) if declined else
                                                    self.rng.uniform(.6, .97), 3),
            created_at=at, feedback=feedback,
            feedback_at=at + timedelta(minutes=self.rng.randint(1, 30)) if feedback else None))

    def _offer(self, learner_id: str, key: str, at: datetime, reason: str, start: float,
               completed: dict[str, datetime], nudged: bool = False) -> None:
        if at >= self.now:
            return
        started = self.rng.random() < start
        started_at = at + timedelta(minutes=self.rng.randint(2, 240)) if started else None
        if started_at and started_at >= self.now:
            started_at = None
        self.rows.append(LessonOffer(learner_id=learner_id, lesson_key=key, reason=reason, offered_at=at,
                                     started_at=started_at))
        if nudged:
            self._delivery(f"nudge:{key}:{learner_id}:{at:%Y%m%d}", learner_id, "nudge", at)
        elif not started_at:
            self._delivery(f"follow_up:{learner_id}:{key}", learner_id, "follow_up", at + timedelta(days=1))
        if started_at and started_at + timedelta(minutes=3) < self.now:
            completed[key] = started_at + timedelta(minutes=3)
            self._learn(learner_id, key, completed[key])

    def _learn(self, learner_id: str, key: str, at: datetime) -> None:
        """The first quiz answer, then each spaced review when it falls due (most are done), until now."""
        card, right = None, self.rng.random() < .6
        while at < self.now:
            card, log, due = review(card, right, at)
            self.rows += [LessonAttempt(learner_id=learner_id, lesson_key=key, chosen=0 if right else 1,
                                        correct=right, at=at),
                          ReviewLogEntry(learner_id=learner_id, lesson_key=key, rating=log["rating"],
                                         reviewed_at=at)]
            last = at
            at = due + timedelta(hours=self.rng.uniform(0, 30))
            if at >= self.now or self.rng.random() > REVIEW_DONE:
                break
            self._delivery(f"review:{learner_id}:{at:%Y%m%d}", learner_id, "review", at - timedelta(minutes=30))
            right = self.rng.random() < .3 + .65 * retrievability(card, at)
        self.rows.append(ReviewCard(learner_id=learner_id, lesson_key=key, card=card, due=due, last_review=last))

    def _delivery(self, key: str, learner_id: str, kind: str, at: datetime) -> None:
        if at >= self.now or PREFIX + key in self.keys:
            return
        self.keys.add(PREFIX + key)
        state = self.rng.choices(["sent", "failed", "skipped"], [.93, .03, .04])[0]
        self.rows.append(NudgeDelivery(key=PREFIX + key, learner_id=learner_id, kind=kind, state=state, attempts=1,
                                       reason="" if state == "sent" else "simulated", created_at=at, updated_at=at))
