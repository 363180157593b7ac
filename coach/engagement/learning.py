"""Whether lessons are taken and remembered: offered, started, completed per week and per competency, quiz accuracy
per competency over time, and spaced-review retention.

Definitions, from what is recorded: a lesson is *offered* when a `LessonOffer` is made (suggested, sent by a
nudge, or opened on request), *started* at its `started_at`, *completed* when the learner first answers its quiz
(the first `LessonAttempt` of that learner on that lesson). Quiz accuracy counts those first answers only, so it
measures what a lesson taught; every later answer on the same lesson is a spaced review (`ReviewLogEntry` after
the first), *recalled* when FSRS rated it above Again - that share is the retention.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import or_, select

from coach.engagement.scope import Bucket, Scope, folded, share, shown_keys, shown_total, visible, week
from coach.engagement.tables import table
from kernel.store import session
from coach.store.models import Lesson, LessonAttempt, LessonOffer, ReviewLogEntry

AGAIN = 1  # FSRS's rating of a review that was not recalled
OTHER = "(other)"  # the row that competencies too few people took lessons in are folded into


def tables(engine: Engine, scope: Scope) -> tuple[dict[str, dict], list[tuple[str, str, object]]]:
    """The lesson tables and their totals lines (of the weeks shown; none when no week is).

    Hidden: a week with fewer than `min_group` learners, from every table; within the weeks shown, a competency
    (folded into "other competencies") or a (week, competency) point of the quiz accuracy with fewer learners
    behind it - one learner's quiz score in a week is exactly what must not be seen. Retention has its own weeks
    (of reviews), hidden the same way. With a competency filter, only lessons tagged with it count."""
    offers, firsts, reviews, competencies = _read(engine, scope)
    events = [(learner_id, key, offered_at, {"offered": 1}) for learner_id, key, offered_at, _ in offers
              if scope.within(offered_at)]
    events += [(learner_id, key, started_at, {"started": 1}) for learner_id, key, _, started_at in offers
               if scope.within(started_at)]
    events += [(learner_id, key, at, {"completed": 1, "correct": int(correct)})
               for learner_id, key, correct, at in firsts]
    per_week: dict[str, Bucket] = defaultdict(Bucket)
    for learner_id, _key, when, counts in events:
        per_week[week(when)].add(learner_id, **counts)
    weeks = shown_keys(per_week, scope)  # a quiet week is in no table at all
    per_competency: dict[str, Bucket] = defaultdict(Bucket)
    accuracy: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    for learner_id, key, when, counts in events:
        if week(when) not in weeks:
            continue
        for competency in filter(lambda c: scope.keeps([c]), competencies.get(key, [])):
            per_competency[competency].add(learner_id, **counts)
            if "completed" in counts:
                accuracy[(week(when), competency)].add(learner_id, answers=1, correct=counts["correct"])
    retention: dict[str, Bucket] = defaultdict(Bucket)
    for learner_id, rating, at in reviews:
        retention[week(at)].add(learner_id, reviews=1, recalled=int(rating > AGAIN))

    week_rows, week_hidden = visible(per_week, scope, lambda key, b: {"week": key, **_funnel(b)})
    competency_rows, competency_hidden = folded(
        per_competency, scope, lambda key, b: {"competency": key, "name": "other competencies" if key == OTHER else
                                               scope.name(key), **_funnel(b)}, OTHER, "completed")
    accuracy_rows, accuracy_hidden = visible(accuracy, scope, lambda key, b: {
        "week": key[0], "competency": key[1], "name": scope.name(key[1]), "answers": b.counts["answers"],
        "correct": b.counts["correct"], "accuracy": share(b.counts["correct"], b.counts["answers"]),
        "people": len(b.people)})
    retention_rows, retention_hidden = visible(retention, scope, lambda key, b: {
        "week": key, "reviews": b.counts["reviews"], "recalled": b.counts["recalled"],
        "retention": share(b.counts["recalled"], b.counts["reviews"]), "people": len(b.people)})
    totals: list[tuple[str, str, object]] = []
    everyone = shown_total(per_week, scope)
    everyone.merge(shown_total(retention, scope))
    if scope.enough(everyone.people):
        c = everyone.counts
        totals = [("lessons_offered", "Lessons offered", c["offered"]),
                  ("lessons_started", "Lessons started", c["started"]),
                  ("lessons_completed", "Lessons completed", c["completed"]),
                  ("quiz_accuracy", "Quiz accuracy (first answers)", share(c["correct"], c["completed"])),
                  ("reviews", "Spaced reviews", c["reviews"]),
                  ("retention", "Retention (reviews recalled)", share(c["recalled"], c["reviews"])),
                  ("learners", "People who took lessons", len(everyone.people))]
    return {"lessons_per_week": table("lessons_per_week", week_rows, week_hidden),
            "competencies": table("competencies", competency_rows, competency_hidden),
            "quiz_accuracy": table("quiz_accuracy", accuracy_rows, accuracy_hidden),
            "retention": table("retention", retention_rows, retention_hidden)}, totals


def _funnel(bucket: Bucket) -> dict:
    c = bucket.counts
    return {"offered": c["offered"], "started": c["started"], "completed": c["completed"], "correct": c["correct"],
            "accuracy": share(c["correct"], c["completed"]), "people": len(bucket.people)}


def _read(engine: Engine, scope: Scope):
    """(offers, first quiz answers in the period, spaced reviews in the period, lesson -> competencies), already
    narrowed to the scope's teams and competency."""
    with session(engine) as db:
        competencies = {key: list(tags or []) for key, tags in db.exec(select(Lesson.key, Lesson.competencies)).all()}
        offers = db.exec(scope.members(select(
            LessonOffer.learner_id, LessonOffer.lesson_key, LessonOffer.offered_at, LessonOffer.started_at).where(
            or_(LessonOffer.offered_at >= scope.since, LessonOffer.started_at >= scope.since),
            LessonOffer.offered_at < scope.until), LessonOffer.learner_id)).all()
        attempts = db.exec(scope.members(select(
            LessonAttempt.learner_id, LessonAttempt.lesson_key, LessonAttempt.correct, LessonAttempt.at).where(
            LessonAttempt.at >= scope.since, LessonAttempt.at < scope.until), LessonAttempt.learner_id)).all()
        first_attempt = _firsts(db, scope, LessonAttempt.learner_id, LessonAttempt.lesson_key, LessonAttempt.at)
        logged = db.exec(scope.members(select(
            ReviewLogEntry.learner_id, ReviewLogEntry.lesson_key, ReviewLogEntry.rating, ReviewLogEntry.reviewed_at)
            .where(ReviewLogEntry.reviewed_at >= scope.since, ReviewLogEntry.reviewed_at < scope.until),
            ReviewLogEntry.learner_id)).all()
        first_log = _firsts(db, scope, ReviewLogEntry.learner_id, ReviewLogEntry.lesson_key, ReviewLogEntry.reviewed_at)

    def kept(key: str) -> bool:
        return scope.keeps(competencies.get(key, []))

    offers = [o for o in offers if kept(o[1])]
    firsts = [a for a in attempts if kept(a[1]) and a[3] == first_attempt.get((a[0], a[1]))]
    reviews = [(learner, rating, at) for learner, key, rating, at in logged
               if kept(key) and at != first_log.get((learner, key))]
    return offers, firsts, reviews, competencies


def _firsts(db, scope: Scope, learner_column, key_column, at_column) -> dict[tuple[str, str], object]:
    """(learner, lesson) -> the time of their first record, ever (so a review in the period is told from a first
    answer given before it)."""
    statement = scope.members(select(learner_column, key_column, func.min(at_column))
                              .where(at_column < scope.until).group_by(learner_column, key_column), learner_column)
    return {(learner, key): first for learner, key, first in db.exec(statement).all()}
