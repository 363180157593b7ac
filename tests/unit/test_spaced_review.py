"""FSRS reviews in the learner's window, and the suggestion ranking on its own."""

from __future__ import annotations

from datetime import UTC, datetime

from coach.lessons.review import Window, into_window, retrievability, review
from coach.suggestions import LearnerSignals, LessonInfo, rank

AMSTERDAM = Window("Europe/Amsterdam")


def test_dues_move_into_working_days_and_hours_in_the_learners_time_zone():
    saturday_night = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert into_window(saturday_night, AMSTERDAM) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 9:00
    tuesday_early = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert into_window(tuesday_early, AMSTERDAM) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    tuesday_noon = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert into_window(tuesday_noon, AMSTERDAM) == tuesday_noon
    evenings = Window.of("America/New_York", {"days": [5, 6], "hours": [18, 21]})  # weekend evenings only
    assert into_window(tuesday_noon, evenings) == datetime(2026, 12, 5, 23, 0, tzinfo=UTC)  # Saturday 18:00 EST


def test_right_answers_space_reviews_out_and_wrong_ones_bring_them_back_soon():
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    card, log, first = review(None, True, at, AMSTERDAM)
    assert log["rating"] == 3 and first > at
    card2, _, second = review(card, True, first, AMSTERDAM)
    assert (second - first) > (first - at)  # the interval grows
    card3, log3, third = review(card2, False, second, AMSTERDAM)
    assert log3["rating"] == 1 and (third - second) < (second - first)
    assert card3["stability"] < card2["stability"] and 0 < retrievability(card3, third) <= 1


def test_ranking_weighs_needs_misses_dues_and_focus_and_skips_what_is_done():
    lessons = [LessonInfo("a", "Expenses 101", ("expenses",), 3), LessonInfo("b", "Phishing", ("security",), 3),
               LessonInfo("c", "Feedback", ("feedback",), 12), LessonInfo("d", "Onboarding", ("onboarding",), 2)]
    signals = LearnerSignals(asked={"expenses": 1, "feedback": 3}, unanswered={"feedback": 1},
                             wrong={"security": 2}, done=frozenset({"d"}), focus=("expenses",),
                             preferred_minutes=10, names={"feedback": "Giving feedback"})
    ranked = rank(lessons, signals)
    assert [s.key for s in ranked] == ["b", "c", "a"]
    assert ranked[0].reason == "because a quiz on security did not go well"
    assert ranked[1].reason == "because you asked about giving feedback 3 times recently (1 the content could not answer)"
    assert all(s.key != "d" for s in ranked)  # done and not due
    due = rank(lessons, LearnerSignals(due={"d": 9}, done=frozenset({"d"})))
    assert [(s.key, s.reason) for s in due] == [("d", "due for review: you last practised it 9 days ago")]
    assert rank(lessons, LearnerSignals()) == []  # no reason, no suggestion
