"""Did a lesson lower the questions people ask on its topic? A matched comparison, per lesson and per competency.

The method, kept simple enough to explain under a chart:
- *Taken*: a learner completed the lesson (their first quiz answer on it, as in learning.py) in the period, at
  least FOLLOW_UP before its end, so the whole follow-up window is observed. Per competency, their first
  completed lesson tagged with it.
- *Outcome*: their questions tagged with the lesson's competencies in the FOLLOW_UP after completing it.
  *Prior rate*: the same count in the FOLLOW_UP before.
- *Matched learners*: for each learner who took it, the people of the same team who had not taken it by the end
  of that learner's follow-up, counted over the same two windows (the same dates). The nearest in prior rate are
  the match (all of them when several are as near), if within CALIPER questions; a learner with no such match is
  left out. Matching is with replacement: one person may match several.
- *Difference*: the mean over matched learners of (their outcome - their matches' mean outcome), with a 95%
  percentile bootstrap interval (BOOTSTRAP resamples of the learners who took it, fixed SEED, so the same data
  gives the same interval). The bootstrap treats each match's mean as fixed, so with very few matches the
  interval is a little narrow. Negative: fewer questions after the lesson than the matches asked.
- Privacy: a row's numbers are shown only when at least `min_group` matched learners took it and at least
  `min_group` different people served as matches; otherwise it says "not enough matched learners".

It is an observational estimate, not a trial: a lesson people chose to take may be taken by those whose questions
were falling anyway. Matching on team and prior rate removes the plainest of those differences, not all.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from coach.engagement.history import History
from coach.engagement.scope import Scope

FOLLOW_UP = timedelta(days=30)
CALIPER = 1  # questions: a match's prior count may differ by at most this much
BOOTSTRAP, SEED = 2000, 20
NOT_ENOUGH = "not enough matched learners"


@dataclass(frozen=True)
class Estimate:
    taken: int  # matched learners who took it
    matches: int  # different people who served as matches
    unmatched: int  # learners who took it and had no match
    prior_taken: float | None
    prior_matched: float | None
    after_taken: float | None
    after_matched: float | None
    difference: float | None
    low: float | None
    high: float | None

    @property
    def status(self) -> str:
        if self.difference is None:
            return NOT_ENOUGH
        if self.high < 0:
            return "fewer questions"
        if self.low > 0:
            return "more questions"
        return "no clear difference"


def by_lesson(history: History, scope: Scope) -> list[tuple[str, Estimate]]:
    """(lesson key, estimate) for every lesson someone in the scope completed in time, in key order."""
    found = []
    for key in sorted(history.lessons):
        topics = set(history.competencies(key))
        if not topics or not scope.keeps(topics):
            continue
        taken = _firsts(history, {key})
        if any(scope.since <= at < scope.until - FOLLOW_UP for at in taken.values()):
            found.append((key, estimate(history, scope, taken, topics)))
    return found


def by_competency(history: History, scope: Scope) -> list[tuple[str, Estimate]]:
    """(competency, estimate) for every competency with a lesson completed in time, in id order."""
    keys: dict[str, set[str]] = defaultdict(set)
    for key, (_title, tags) in history.lessons.items():
        for tag in tags:
            keys[tag].add(key)
    found = []
    for competency in sorted(keys):
        if not scope.keeps([competency]):
            continue
        taken = _firsts(history, keys[competency])
        if any(scope.since <= at < scope.until - FOLLOW_UP for at in taken.values()):
            found.append((competency, estimate(history, scope, taken, {competency})))
    return found


def estimate(history: History, scope: Scope, taken: dict[str, datetime], topics: set[str]) -> Estimate:
    """The matched difference for learners who completed at `taken` (learner -> first completion; those in the
    period with a full follow-up count), in questions on `topics`."""
    asked = _question_times(history, topics)
    members: dict[str, list[str]] = defaultdict(list)
    for learner_id, team in history.teams.items():
        members[team].append(learner_id)
    differences, priors, after, matched_priors, matched_after = [], [], [], [], []
    serving: set[str] = set()
    unmatched = 0
    for learner_id, at in sorted(taken.items()):
        if not scope.since <= at < scope.until - FOLLOW_UP or learner_id not in history.teams:
            continue
        candidates = [other for other in members[history.teams[learner_id]] if other != learner_id
                      and not (other in taken and taken[other] < at + FOLLOW_UP)]
        prior, outcome = _count(asked, learner_id, at - FOLLOW_UP, at), _count(asked, learner_id, at, at + FOLLOW_UP)
        distance = {other: abs(_count(asked, other, at - FOLLOW_UP, at) - prior) for other in candidates}
        nearest = min(distance.values(), default=None)
        if nearest is None or nearest > CALIPER:
            unmatched += 1
            continue
        chosen = [other for other in candidates if distance[other] == nearest]
        serving.update(chosen)
        control_after = float(np.mean([_count(asked, other, at, at + FOLLOW_UP) for other in chosen]))
        control_prior = float(np.mean([_count(asked, other, at - FOLLOW_UP, at) for other in chosen]))
        differences.append(outcome - control_after)
        priors.append(prior)
        after.append(outcome)
        matched_priors.append(control_prior)
        matched_after.append(control_after)
    if len(differences) < scope.min_group or len(serving) < scope.min_group:
        return Estimate(len(differences), len(serving), unmatched, *([None] * 7))
    low, high = interval(differences)
    return Estimate(len(differences), len(serving), unmatched, _mean(priors), _mean(matched_priors), _mean(after),
                    _mean(matched_after), _mean(differences), low, high)


def interval(differences: list[float]) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of the mean difference (fixed seed: reproducible)."""
    values = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(SEED)
    means = values[rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return round(float(low), 2), round(float(high), 2)


def _firsts(history: History, keys: set[str]) -> dict[str, datetime]:
    """Learner -> their first quiz answer on any of these lessons (attempts are in time order)."""
    found: dict[str, datetime] = {}
    for attempt in history.attempts:
        if attempt.lesson_key in keys:
            found.setdefault(attempt.learner_id, attempt.at)
    return found


def _question_times(history: History, topics: set[str]) -> dict[str, list[datetime]]:
    """Learner -> the sorted times of their questions tagged with any of `topics`."""
    found: dict[str, list[datetime]] = defaultdict(list)
    for question in history.questions:  # in time order
        if topics & set(question.topics):
            found[question.learner_id].append(question.at)
    return found


def _count(asked: dict[str, list[datetime]], learner_id: str, since: datetime, until: datetime) -> int:
    times = asked.get(learner_id, [])
    return bisect_left(times, until) - bisect_left(times, since)


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 2)
