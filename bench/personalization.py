"""Personalization benchmark: does the suggested lesson target a real skill gap, and does spaced review keep it?

    python -m bench.personalization [--learners 500] [--seed 7] [--gap-skew 0]

A simulation of learners whose skill gaps are hidden. The coach's suggestions come from the product's own ranker
(`coach.suggestions.rank`) fed with signals built the way `coach.lessons.service.Lessons.signals` builds them from
the needs log, the quiz attempts and the review cards; the spaced reviews come from the product's own FSRS scheduler
(`coach.lessons.review.review`, default working-day window). The ground truth (each learner's gaps, mastery and
memory) is only ever read by the simulated learner and by the scoring, never by the ranker.

The world
- The 8 competencies of examples/competencies.yaml, 2-3 lessons each (one competency per lesson, 2-6 minutes).
- Each learner has 2-3 hidden gap competencies (uniformly drawn; `--gap-skew s` draws competency j with weight
  1/(j+1)**s instead, for a company where some gaps are much more common than others). Mastery: a quiz is answered
  right with probability 0.35 on a gap, 0.85 otherwise. 30% of learners prefer lessons of at most 3 or 5 minutes.
- Teams of 6-10 learners. Each team's manager sets two focus competencies: the team's most common gap (a manager
  knows their team somewhat) and one other picked at random (ties broken at random), so focus overlaps the gaps only
  partly.

The 30-day history before "now" (a Monday, 10:00 UTC), which is all the coach sees
- 3-10 questions per learner in the window; a question's true competency is one of the learner's gaps with
  probability 0.65, otherwise one of the competencies they know. The product's tagger is simulated noisy: with
  probability 0.2 the question is tagged with a random other competency, with probability 0.15 it gets no tag.
  Whether the content answered it is independent of the gaps (unanswered with probability 0.25), so that signal
  carries no hidden truth.
- 40% of learners took 1-2 lessons earlier in the window: each is, with probability 0.5, a lesson on the true
  competency of one of their questions (following up on something they asked) and otherwise any lesson. The first
  quiz is graded by FSRS (`review`); each time the card falls due before now the learner does the review with
  probability 0.5 (otherwise it stays due). Quiz answers follow the hidden mastery; the wrong ones count in `wrong`.
- Signals at now: `asked` / `unanswered` = per-tag counts of the questions, `wrong` = per-competency wrong quiz
  answers, `done` = lessons with a review card, `due` = those whose card is due (days since the last review),
  `focus` = the team's, `preferred_minutes` = the learner's preference.

Precision: a suggestion is a hit when its lesson's competency is one of the learner's hidden gaps. precision@1 = hit
rate of the first suggestion, precision@3 = mean fraction of hits in the first three. When the ranker suggests fewer
than three (it skips lessons with no reason at all), the list is padded with the popularity list. Baselines, in the
same run: popularity (the same lessons for everyone, ranked by how many questions of all learners were tagged with
their competency, ties by key) and random (three lessons drawn per learner). Every method leaves out the lessons the
learner has done and that are not due. `ratio_p3_vs_popularity` = coach p@3 / popularity p@3; target >= 2.0.

Recall after 30 days: from now, each learner learns one lesson of each of their gaps (day 0 quiz right with the
gap's mastery probability). A hidden memory per learner-lesson: stability S in days, recall probability
R(t) = (1 + t / (9 S)) ** -1 (FSRS's power curve) t days after the last exposure; initial S lognormal with median
1.5 days (sigma 0.4), halved after a wrong first answer. At a review the learner answers right with probability
R(t); a right answer multiplies S by 1 + 15 (1 - R) (x2.5 when reviewed at R = 0.9: more is gained the more had
been forgotten; deliberately a plainer and less generous rule than FSRS's own default model, so the scheduler does
not grade itself), a wrong one halves S; either way the exposure restarts the clock. FSRS arm: a review every time
the product's FSRS card falls due (rated with the real outcome), taken at that moment. No-review arm: day 0 only.
Both arms share the day-0 outcome and initial S. Reported: mean R at day 30.

Deterministic for a given --seed. Progress on stderr; one JSON object as the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from coach.lessons.review import review
from coach.suggestions import LearnerSignals, LessonInfo, rank

COMPETENCIES_FILE = Path(__file__).resolve().parent.parent / "examples" / "competencies.yaml"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
HISTORY_DAYS = 30
K = 3
TARGET_RATIO = 2.0

P_RIGHT_GAP, P_RIGHT_KNOWN = 0.35, 0.85  # quiz answered right, by hidden mastery
P_QUESTION_ON_GAP = 0.65
P_TAG_WRONG, P_TAG_NONE = 0.2, 0.15  # the tagger's noise
P_UNANSWERED = 0.25  # independent of the gaps
P_TOOK_LESSONS = 0.4
P_LESSON_FROM_QUESTION = 0.5
P_DOES_DUE_REVIEW = 0.5
P_PREFERS_MINUTES = 0.3
S0_MEDIAN, S0_SIGMA, S_WRONG_FIRST = 1.5, 0.4, 0.5
GAIN = 15.0  # a right review multiplies S by 1 + GAIN * (1 - R)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Learner:
    index: int
    team: int
    gaps: frozenset[str]  # hidden: read by the simulated learner and the scoring only
    preferred_minutes: int | None
    tags: list[str | None] = field(default_factory=list)  # what the tagger made of each question
    answered: list[bool] = field(default_factory=list)
    wrong: Counter = field(default_factory=Counter)  # competency -> wrong quiz answers in the window
    cards: dict[str, tuple[dict, datetime, datetime]] = field(default_factory=dict)  # lesson -> (card, due, last)


def competencies() -> tuple[list[str], dict[str, str]]:
    items = yaml.safe_load(COMPETENCIES_FILE.read_text())["competencies"]
    return [c["id"] for c in items], {c["id"]: c["name"] for c in items}


def catalog(ids: list[str], names: dict[str, str], rng: random.Random) -> list[LessonInfo]:
    lessons = []
    for c in ids:
        for i in range(rng.randint(2, 3)):
            lessons.append(LessonInfo(f"{c}-{i + 1}", f"{names[c]} {i + 1}", (c,), rng.randint(2, 6)))
    return lessons


def p_right(lesson: LessonInfo, gaps: frozenset[str]) -> float:
    return P_RIGHT_GAP if set(lesson.competencies) & gaps else P_RIGHT_KNOWN


def population(n: int, seed: int, ids: list[str], lessons: list[LessonInfo],
               skew: float) -> tuple[list[Learner], dict[int, tuple[str, ...]]]:
    """Learners with their hidden gaps and their 30-day history, and each team's focus."""
    rng = random.Random(f"{seed}:population")
    order = ids[:]
    rng.shuffle(order)  # which competencies are the common gaps when skewed
    weights = {c: 1 / (j + 1) ** skew for j, c in enumerate(order)}
    by_competency = {c: [l for l in lessons if c in l.competencies] for c in ids}
    learners: list[Learner] = []
    team, left = 0, rng.randint(6, 10)
    for i in range(n):
        if left == 0:
            team, left = team + 1, rng.randint(6, 10)
        left -= 1
        r = random.Random(f"{seed}:learner:{i}")
        gaps: set[str] = set()
        target = r.randint(2, 3)
        while len(gaps) < target:
            gaps.add(r.choices(ids, weights=[weights[c] for c in ids])[0])
        preferred = r.choice((3, 5)) if r.random() < P_PREFERS_MINUTES else None
        learner = Learner(i, team, frozenset(gaps), preferred)
        known = [c for c in ids if c not in gaps]
        truths = []
        for _ in range(r.randint(3, 10)):
            truth = r.choice(sorted(gaps)) if r.random() < P_QUESTION_ON_GAP else r.choice(known)
            truths.append(truth)
            noise = r.random()
            tag = (r.choice([c for c in ids if c != truth]) if noise < P_TAG_WRONG
                   else None if noise < P_TAG_WRONG + P_TAG_NONE else truth)
            learner.tags.append(tag)
            learner.answered.append(r.random() >= P_UNANSWERED)
        if r.random() < P_TOOK_LESSONS:
            for _ in range(r.randint(1, 2)):
                pool = (by_competency[r.choice(truths)] if r.random() < P_LESSON_FROM_QUESTION else lessons)
                lesson = r.choice(pool)
                if lesson.key not in learner.cards:
                    take_lesson(learner, lesson, r)
        learners.append(learner)
    focus = {}
    for t in range(team + 1):
        members = [l for l in learners if l.team == t]
        counts = Counter(g for l in members for g in l.gaps)
        top = max(counts.values())
        common = rng.choice(sorted(c for c, k in counts.items() if k == top))
        focus[t] = (common, rng.choice([c for c in ids if c != common]))
    return learners, focus


def take_lesson(learner: Learner, lesson: LessonInfo, r: random.Random) -> None:
    """A lesson taken between 9:00 and 17:00 on a day of the window, then the due reviews the learner chose to do."""
    at = (NOW - timedelta(days=r.randint(1, HISTORY_DAYS - 1))).replace(hour=r.randint(9, 16))
    right = r.random() < p_right(lesson, learner.gaps)
    card, _, due = review(None, right, at)
    last = at
    while True:
        if not right:
            for c in lesson.competencies:
                learner.wrong[c] += 1
        if due > NOW or r.random() >= P_DOES_DUE_REVIEW:
            break
        right = r.random() < p_right(lesson, learner.gaps)
        last = due
        card, _, due = review(card, right, due)
    learner.cards[lesson.key] = (card, due, last)


def signals(learner: Learner, focus: tuple[str, ...], names: dict[str, str], popular: dict[str, float]) -> LearnerSignals:
    """What the product would gather for this learner at now (see coach.lessons.service.Lessons.signals)."""
    return LearnerSignals(
        asked=Counter(t for t in learner.tags if t),
        unanswered=Counter(t for t, ok in zip(learner.tags, learner.answered) if t and not ok),
        wrong=Counter(learner.wrong),
        due={key: max(0, (NOW - last).days) for key, (_, due, last) in learner.cards.items() if due <= NOW},
        done=frozenset(learner.cards),
        focus=focus, preferred_minutes=learner.preferred_minutes, names=names, popular=popular)


def eligible(lesson: LessonInfo, s: LearnerSignals) -> bool:
    return not (lesson.key in s.done and lesson.key not in s.due)


def padded(keys: list[str], fill: list[str]) -> list[str]:
    out = list(keys)
    for key in fill:
        if len(out) >= K:
            break
        if key not in out:
            out.append(key)
    return out


def precision(keys: list[str], competencies_of: dict[str, tuple[str, ...]],
              gaps: frozenset[str]) -> tuple[float, float]:
    hits = [bool(set(competencies_of[k]) & gaps) for k in keys[:K]]
    return float(hits[0]) if hits else 0.0, sum(hits) / K


def recall_after_30_days(learner: Learner, lessons: list[LessonInfo],
                         seed: int) -> tuple[list[float], list[float], int]:
    """(R at day 30 with FSRS reviews, R at day 30 without, reviews done) for one lesson of each of the gaps."""
    r = random.Random(f"{seed}:recall:{learner.index}")
    end = NOW + timedelta(days=30)
    with_fsrs, without, reviews = [], [], 0
    for gap in sorted(learner.gaps):
        lesson = r.choice([l for l in lessons if gap in l.competencies])
        right = r.random() < p_right(lesson, learner.gaps)
        s0 = math.exp(r.gauss(math.log(S0_MEDIAN), S0_SIGMA)) * (1 if right else S_WRONG_FIRST)
        without.append(retention(s0, end - NOW))
        stability, last = s0, NOW
        card, _, due = review(None, right, NOW)
        while due <= end:
            chance = retention(stability, due - last)
            right = r.random() < chance
            stability = stability * (1 + GAIN * (1 - chance)) if right else stability / 2
            last = due
            card, _, due = review(card, right, due)
            reviews += 1
        with_fsrs.append(retention(stability, end - last))
    return with_fsrs, without, reviews


def retention(stability: float, elapsed: timedelta) -> float:
    t = elapsed.total_seconds() / 86400
    return (1 + t / (9 * stability)) ** -1


def simulate(n: int, seed: int, skew: float = 0.0) -> dict:
    started = time.perf_counter()
    ids, names = competencies()
    lessons = catalog(ids, names, random.Random(f"{seed}:catalog"))
    competencies_of = {l.key: l.competencies for l in lessons}
    log(f"{len(ids)} competencies, {len(lessons)} lessons; simulating {n} learners' 30-day history")
    learners, focus = population(n, seed, ids, lessons, skew)
    tagged = Counter(t for l in learners for t in l.tags if t)  # what every learner asked, as the tagger saw it
    popular = sorted(lessons, key=lambda l: (-sum(tagged[c] for c in l.competencies), l.key))
    shares = {c: n / max(tagged.values()) for c, n in tagged.items()}  # as Lessons.signals gives `popular`
    log(f"{len(focus)} teams; popularity order: {', '.join(l.key for l in popular[:K])} ...")

    scores: dict[str, list[tuple[float, float]]] = {"coach": [], "popularity": [], "random": []}
    fsrs_recall, bare_recall, reviews, short = [], [], 0, 0
    for learner in learners:
        s = signals(learner, focus[learner.team], names, shares)
        fill = [l.key for l in popular if eligible(l, s)]
        suggested = [x.key for x in rank(lessons, s, K)]
        short += len(suggested) < K
        r = random.Random(f"{seed}:random:{learner.index}")
        pool = [l.key for l in lessons if eligible(l, s)]
        lists = {"coach": padded(suggested, fill), "popularity": fill[:K], "random": r.sample(pool, min(K, len(pool)))}
        for method, keys in lists.items():
            scores[method].append(precision(keys, competencies_of, learner.gaps))
        f, b, done = recall_after_30_days(learner, lessons, seed)
        fsrs_recall += f
        bare_recall += b
        reviews += done
        if (learner.index + 1) % 100 == 0:
            log(f"{learner.index + 1}/{n} learners ({time.perf_counter() - started:.1f} s)")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    result: dict = {"learners": n}
    for method, pairs in scores.items():
        result[method] = {"precision@1": round(mean([p1 for p1, _ in pairs]), 3),
                          "precision@3": round(mean([p3 for _, p3 in pairs]), 3)}
    result["recall_30d"] = {"fsrs": round(mean(fsrs_recall), 3), "no_review": round(mean(bare_recall), 3)}
    coach_p3 = mean([p3 for _, p3 in scores["coach"]])
    popularity_p3 = mean([p3 for _, p3 in scores["popularity"]])
    result["ratio_p3_vs_popularity"] = round(coach_p3 / popularity_p3, 3) if popularity_p3 else None
    result["reviews_per_lesson_30d"] = round(reviews / max(1, len(fsrs_recall)), 2)
    result["coach_padded_share"] = round(short / max(1, n), 3)
    result["seed"], result["gap_skew"] = seed, skew
    result["seconds"] = round(time.perf_counter() - started, 2)
    ratio = result["ratio_p3_vs_popularity"]
    log(f"coach p@3 {coach_p3:.3f} vs popularity {popularity_p3:.3f}: ratio {ratio} -> target (>= {TARGET_RATIO}) "
        + ("met" if ratio is not None and ratio >= TARGET_RATIO else "NOT met"))
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gap-skew", type=float, default=0.0,
                        help="0: gaps drawn uniformly; s > 0: competency j is a gap with weight 1/(j+1)**s")
    args = parser.parse_args(argv)
    result = simulate(args.learners, args.seed, args.gap_skew)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
