"""Whether what a lesson teaches sticks: quiz accuracy by attempt (1st, 2nd, 3rd and later answer of a learner on
one lesson: the first is the lesson itself, the later ones its spaced reviews), and the recall FSRS predicts 30
days after each card's last review.

Attempts are numbered over every answer a learner ever gave on the lesson, so a review in the period after a first
answer before it is still a 2nd attempt; only answers in the period are counted. Retention counts the cards whose
last review is in the period: for each, FSRS's retrievability (its forgetting curve, from the card's stability)
RECALL_AFTER after that review, averaged. A row is shown only when at least `min_group` different people stand
behind it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Callable, Iterable

from coach.engagement.history import History
from coach.engagement.scope import Bucket, Scope, share, visible
from coach.lessons.review import retrievability

RECALL_AFTER = timedelta(days=30)
ATTEMPTS = ("1st", "2nd", "3rd+")


def attempts(history: History, scope: Scope, unit: Callable[[str], Iterable[str]]) -> dict[tuple[str, str], Bucket]:
    """(unit, attempt label) -> answers and right answers in the period; `unit` maps a lesson key to the units it
    counts under (itself, or those of its competencies the scope keeps)."""
    numbers: Counter = Counter()
    buckets: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    for attempt in history.attempts:  # in time order
        numbers[(attempt.learner_id, attempt.lesson_key)] += 1
        if not scope.within(attempt.at) or not scope.keeps(history.competencies(attempt.lesson_key)):
            continue
        label = ATTEMPTS[min(numbers[(attempt.learner_id, attempt.lesson_key)], len(ATTEMPTS)) - 1]
        for key in unit(attempt.lesson_key):
            buckets[(key, label)].add(attempt.learner_id, answers=1, correct=int(attempt.correct))
    return buckets


def retention(history: History, scope: Scope, unit: Callable[[str], Iterable[str]]) -> dict[str, Bucket]:
    """Unit -> cards last reviewed in the period, and the sum of their predicted recall (in thousandths, so the
    Bucket's counts stay whole) RECALL_AFTER after that review."""
    buckets: dict[str, Bucket] = defaultdict(Bucket)
    for card in history.cards:
        if not scope.within(card.last_review) or not scope.keeps(history.competencies(card.lesson_key)):
            continue
        recall = retrievability(card.card, card.last_review + RECALL_AFTER)
        for key in unit(card.lesson_key):
            buckets[key].add(card.learner_id, cards=1, recall=round(recall * 1000))
    return buckets


def attempt_rows(buckets: dict[tuple[str, str], Bucket], scope: Scope, name: Callable[[str], str],
                 column: str) -> tuple[list[dict], int]:
    order = {label: n for n, label in enumerate(ATTEMPTS)}
    rows, hidden = visible(buckets, scope, lambda key, b: {
        column: key[0], "name": name(key[0]), "attempt": key[1], "answers": b.counts["answers"],
        "correct": b.counts["correct"], "accuracy": share(b.counts["correct"], b.counts["answers"]),
        "people": len(b.people)})
    return sorted(rows, key=lambda row: (row[column], order[row["attempt"]])), hidden


def retention_rows(buckets: dict[str, Bucket], scope: Scope, name: Callable[[str], str],
                   column: str) -> tuple[list[dict], int]:
    return visible(buckets, scope, lambda key, b: {
        column: key, "name": name(key), "cards": b.counts["cards"],
        "recall_30d": round(b.counts["recall"] / 1000 / b.counts["cards"], 3), "people": len(b.people)})
