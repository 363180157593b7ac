"""The impact report's computations on histories built by hand, with answers known in advance: the matched effect
on questions and its interval, quiz accuracy by attempt, retention from FSRS cards, deflection and its time
estimate, alignment with team focus, and the privacy floor in each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coach.engagement import effect, impact
from coach.engagement.history import Attempt, Card, History, Question
from coach.engagement.scope import Scope
from coach.lessons.review import retrievability, review

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
SCOPE = Scope(since=NOW - timedelta(days=90), until=NOW, min_group=5, names={"expenses": "Expenses and travel"})
TAKEN_AT = NOW - timedelta(days=60)  # a full 30-day follow-up inside the period
LESSONS = {"per-diem": ("Per diems", ("expenses",)), "phishing": ("Report phishing", ("information-security",))}


def asked(learner: str, count: int, start: datetime, topic: str = "expenses", helpful: bool = False) -> list[Question]:
    """`count` questions a day apart from `start`."""
    return [Question(learner, start + timedelta(days=n, hours=1), (topic,), True, helpful) for n in range(count)]


def history(after_taken: list[int], after_not: list[int], prior: int = 3, team_of=lambda n: "Support") -> History:
    """Learners t0.. took per-diem at TAKEN_AT and asked `after_taken[n]` expense questions in the 30 days after;
    c0.. did not and asked `after_not[n]`; everyone asked `prior` in the 30 days before."""
    took = [f"t{n}" for n in range(len(after_taken))]
    did_not = [f"c{n}" for n in range(len(after_not))]
    questions = []
    for learner, after in [*zip(took, after_taken), *zip(did_not, after_not)]:
        questions += asked(learner, prior, TAKEN_AT - timedelta(days=25)) + asked(learner, after, TAKEN_AT)
    teams = {learner: team_of(n) for group in (took, did_not) for n, learner in enumerate(group)}
    return History(teams=teams, lessons=dict(LESSONS), questions=sorted(questions, key=lambda q: q.at),
                   attempts=[Attempt(learner, "per-diem", TAKEN_AT, True) for learner in took])


def only(rows: list[tuple[str, effect.Estimate]]) -> effect.Estimate:
    assert [key for key, _ in rows] == ["per-diem"] or [key for key, _ in rows] == ["expenses"]
    return rows[0][1]


def test_a_lesson_that_lowers_follow_up_questions_shows_a_negative_difference_excluding_zero():
    found = only(effect.by_lesson(history([0, 1, 0, 1, 0, 1, 0, 1], [3, 4, 3, 4, 3, 4]), SCOPE))
    assert (found.taken, found.matches, found.unmatched) == (8, 6, 0)
    assert found.prior_taken == found.prior_matched == 3  # matched on the prior rate
    assert found.after_taken == 0.5 and found.after_matched == 3.5 and found.difference == -3.0
    assert found.high < 0 and found.low <= -3.0 <= found.high and found.status == "fewer questions"
    assert found.low < found.high  # the learners differ, so the interval has a width
    per_competency = only(effect.by_competency(history([0, 1, 0, 1, 0, 1, 0, 1], [3, 4, 3, 4, 3, 4]), SCOPE))
    assert per_competency.difference == -3.0


def test_no_effect_gives_an_interval_around_zero():
    found = only(effect.by_lesson(history([2, 4, 1, 3, 5, 2, 3], [3, 2, 4, 1, 5, 3]), SCOPE))
    assert found.low < 0 < found.high and found.status == "no clear difference"
    assert effect.interval([1, -1, 2, -2, 0, 1, -1]) == effect.interval([1, -1, 2, -2, 0, 1, -1])  # fixed seed


def test_matching_is_within_the_team_and_on_the_prior_rate():
    # Support: six took it and ask 0 after, three did not and ask 1; Sales: two took it and ask 6, five did not
    # and ask 7. Within each team the lesson saves one question; pooling the teams would say 3.25.
    mixed = history([0] * 6 + [6] * 2, [1] * 3 + [7] * 5)
    mixed.teams.update({f"t{n}": "Sales" for n in (6, 7)} | {f"c{n}": "Sales" for n in range(3, 8)})
    found = only(effect.by_lesson(mixed, SCOPE))
    assert (found.taken, found.matches) == (8, 8) and found.difference == -1.0 and found.low == found.high == -1.0
    # a learner whose prior rate no one in the team comes near (CALIPER) is left out, not matched badly
    lone = history([0] * 6, [4] * 6)
    lone.questions += asked("t0", 10, TAKEN_AT - timedelta(days=29, hours=2))
    lone.questions.sort(key=lambda q: q.at)
    assert only(effect.by_lesson(lone, SCOPE)).unmatched == 1


def test_too_few_matched_learners_say_so_instead_of_a_number():
    found = only(effect.by_lesson(history([0, 0, 0, 0], [3, 3, 3, 3, 3, 3]), SCOPE))  # four took it
    assert found.difference is None and found.status == effect.NOT_ENOUGH
    assert only(effect.by_lesson(history([0] * 6, [3] * 4), SCOPE)).difference is None  # four matches
    report = impact.build(history([0, 0, 0, 0], [3] * 6), SCOPE, days=90, minutes_per_question=10)
    [row] = report["tables"]["effect_by_lesson"]["rows"]
    assert row["status"] == "not enough matched learners" and row["difference"] is None and row["taken"] is None


def test_a_lesson_taken_too_late_for_a_follow_up_is_not_estimated():
    late = history([0] * 6, [3] * 6)
    late.attempts = [Attempt(a.learner_id, a.lesson_key, NOW - timedelta(days=10), True) for a in late.attempts]
    assert effect.by_lesson(late, SCOPE) == []


def test_quiz_accuracy_rises_over_attempts_and_small_rows_are_hidden():
    people = [f"p{n}" for n in range(6)]
    attempts = []
    for n, person in enumerate(people):  # 1st: half right; 2nd: five of six; 3rd and 4th: all right
        attempts += [Attempt(person, "per-diem", TAKEN_AT, n % 2 == 0),
                     Attempt(person, "per-diem", TAKEN_AT + timedelta(days=3), n != 1),
                     Attempt(person, "per-diem", TAKEN_AT + timedelta(days=10), True)]
        if n < 2:
            attempts.append(Attempt(person, "per-diem", TAKEN_AT + timedelta(days=30), True))
    attempts += [Attempt("p0", "phishing", TAKEN_AT, True)]  # one person: no row
    found = impact.build(History(teams={p: "Support" for p in people}, lessons=dict(LESSONS), attempts=attempts),
                         SCOPE, days=90, minutes_per_question=10)
    table = found["tables"]["attempts_by_lesson"]
    assert [(r["attempt"], r["answers"], r["accuracy"], r["people"]) for r in table["rows"]] == [
        ("1st", 6, 0.5, 6), ("2nd", 6, 0.833, 6), ("3rd+", 8, 1.0, 6)]
    assert table["hidden_rows"] == 1 and {r["lesson"] for r in table["rows"]} == {"per-diem"}
    assert [r["name"] for r in found["tables"]["attempts_by_competency"]["rows"]] == ["Expenses and travel"] * 3


def test_retention_is_the_mean_recall_fsrs_predicts_30_days_after_the_last_review():
    cards = []
    for n in range(5):
        state, _log, _due = review(None, True, TAKEN_AT)
        if n < 2:  # reviewed once more, right: a stronger memory
            state, _log, _due = review(state, True, TAKEN_AT + timedelta(days=5))
        cards.append(Card(f"p{n}", "per-diem", state, TAKEN_AT + timedelta(days=5 if n < 2 else 0)))
    expected = sum(retrievability(c.card, c.last_review + timedelta(days=30)) for c in cards) / 5
    found = impact.build(History(teams={f"p{n}": "S" for n in range(5)}, lessons=dict(LESSONS), cards=cards),
                         SCOPE, days=90, minutes_per_question=10)
    [row] = found["tables"]["retention_by_lesson"]["rows"]
    assert row["cards"] == 5 and row["recall_30d"] == pytest.approx(expected, abs=0.002) and 0 < expected < 1
    few = History(teams={"p0": "S"}, lessons=dict(LESSONS), cards=cards[:4])
    assert impact.build(few, SCOPE, days=90, minutes_per_question=10)["tables"]["retention_by_lesson"][
        "hidden_rows"] == 1


def test_deflection_counts_helpful_answers_and_estimates_the_time_as_such():
    questions = [q for n in range(6) for q in asked(f"p{n}", 2, TAKEN_AT, helpful=n < 3)]  # 6 of 12 helpful
    questions += asked("p0", 1, TAKEN_AT, topic="information-security", helpful=True)  # one person: folded away
    found = impact.build(History(teams={f"p{n}": "S" for n in range(6)}, lessons=dict(LESSONS),
                                 questions=questions), SCOPE, days=90, minutes_per_question=12)
    table = found["tables"]["deflection"]
    [row] = table["rows"]
    assert (row["questions"], row["deflected"], row["minutes_saved_estimate"]) == (12, 6, 72.0)
    assert table["hidden_rows"] == 1 and "12 minutes per question" in table["method"]
    assert "estimate" in table["title"] and found["totals"]["deflected"] == 7
    assert found["totals"]["hours_saved_estimate"] == 1.4  # 7 x 12 minutes
    assert any("estimate" in r["measure"] for r in found["tables"]["totals"]["rows"])


def test_alignment_is_the_share_of_activity_on_the_team_focus_per_week():
    people = [f"p{n}" for n in range(5)]
    monday = datetime(2025, 6, 2, 9, tzinfo=UTC)
    questions = [q for p in people for q in asked(p, 1, monday)]  # expenses: on focus
    questions += [q for p in people for q in asked(p, 1, monday, topic="information-security")]
    attempts = [Attempt(p, "per-diem", monday + timedelta(hours=3), True) for p in people]  # on focus
    small = [Question("q0", monday, ("expenses",), True, False)]  # Sales: one person, hidden
    found = impact.build(History(teams={**{p: "Support" for p in people}, "q0": "Sales"}, lessons=dict(LESSONS),
                                 questions=questions + small, attempts=attempts,
                                 focus={"Support": ("expenses",), "Sales": ("expenses",), "Empty": ()}),
                         SCOPE, days=90, minutes_per_question=10)
    table = found["tables"]["alignment"]
    assert table["rows"] == [{"team": "Support", "week": "2025-06-02", "focus": "Expenses and travel",
                              "activities": 15, "on_focus": 10, "on_focus_share": 0.667, "people": 5}]
    assert table["hidden_rows"] == 1
