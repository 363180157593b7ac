"""The impact report's tables: titles, what each shows, how it was computed, and columns in display order. One
place, so the page (its text under each chart), the CSV export and `coach report impact` say the same."""

from __future__ import annotations

from coach.engagement.effect import BOOTSTRAP, CALIPER, NOT_ENOUGH
from coach.engagement.tables import TableSpec

_EFFECT_COLUMNS = (
    ("status", "Result"), ("taken", "Took it (matched)"), ("matches", "Matched learners"),
    ("prior_taken", "Questions before, took it"), ("prior_matched", "Questions before, matched"),
    ("after_taken", "Questions after, took it"), ("after_matched", "Questions after, matched"),
    ("difference", "Difference per learner"), ("low", "95% interval, low"), ("high", "95% interval, high"))
EFFECT_METHOD = (
    "Learners who completed it (first quiz answer) at least 30 days before the period's end, against learners of "
    "the same team who had not taken it by the end of those 30 days. Each is matched to the team members nearest "
    f"in their question rate on these topics in the 30 days before (at most {CALIPER} question apart; all equally "
    "near ones averaged); the difference is questions per learner in the 30 days after, theirs minus their "
    f"matches', with a 95% bootstrap interval ({BOOTSTRAP:,} resamples, fixed seed). An interval entirely below "
    "zero means fewer questions after the lesson. Observational, not a trial: people choose what they learn. "
    f"Fewer than the privacy threshold of matched learners on either side: “{NOT_ENOUGH}”.")
_ATTEMPT_COLUMNS = (("name", "Name"), ("attempt", "Attempt"), ("answers", "Answers"), ("correct", "Right"),
                    ("accuracy", "Accuracy"), ("people", "People"))
ATTEMPTS_METHOD = (
    "Every quiz answer in the period, numbered per learner and lesson over all their answers: the 1st is the "
    "lesson itself, the 2nd and later its spaced reviews. Accuracy is the share right. Rising accuracy over "
    "attempts means the reviews are doing their work.")
_RETENTION_COLUMNS = (("name", "Name"), ("cards", "Cards"), ("recall_30d", "Predicted recall at 30 days"),
                      ("people", "People"))
RETENTION_METHOD = (
    "For each learner's review card (FSRS) last reviewed in the period: the probability FSRS's forgetting curve "
    "gives that they still recall it 30 days after that last review, from the stability their answers built up; "
    "the mean over cards. A prediction of the model, not a measurement.")

IMPACT_TABLES: dict[str, TableSpec] = {
    "totals": TableSpec(
        "Impact at a glance", "The period at a glance; a line is missing when fewer people than the privacy "
                              "threshold stand behind it.", (("measure", "Measure"), ("value", "Value"))),
    "effect_by_lesson": TableSpec(
        "Effect on questions, per lesson", "Questions on a lesson's competencies per learner in the 30 days after "
                                           "completing it, against matched learners who did not take it.",
        (("lesson", "Lesson key"), ("name", "Lesson"), *_EFFECT_COLUMNS), EFFECT_METHOD),
    "effect_by_competency": TableSpec(
        "Effect on questions, per competency", "Questions on a competency per learner in the 30 days after their "
                                               "first lesson on it, against matched learners who took none.",
        (("competency", "Competency id"), ("name", "Competency"), *_EFFECT_COLUMNS), EFFECT_METHOD),
    "attempts_by_lesson": TableSpec(
        "Quiz accuracy by attempt, per lesson", "The share of right answers at the 1st, 2nd and 3rd or later "
                                                "answer on each lesson.",
        (("lesson", "Lesson key"), *_ATTEMPT_COLUMNS), ATTEMPTS_METHOD),
    "attempts_by_competency": TableSpec(
        "Quiz accuracy by attempt, per competency", "The share of right answers at the 1st, 2nd and 3rd or later "
                                                    "answer on the lessons of each competency.",
        (("competency", "Competency id"), *_ATTEMPT_COLUMNS), ATTEMPTS_METHOD),
    "retention_by_lesson": TableSpec(
        "Retention at 30 days, per lesson", "The recall FSRS predicts 30 days after each card's last review.",
        (("lesson", "Lesson key"), *_RETENTION_COLUMNS), RETENTION_METHOD),
    "retention_by_competency": TableSpec(
        "Retention at 30 days, per competency", "The recall FSRS predicts 30 days after each card's last review, "
                                                "over the lessons of each competency.",
        (("competency", "Competency id"), *_RETENTION_COLUMNS), RETENTION_METHOD),
    "deflection": TableSpec(
        "Questions deflected and time saved (estimate)", "Questions answered from the content and rated helpful by "
                                                         "the asker, per competency, and the time that saved: an "
                                                         "estimate.",
        (("competency", "Competency id"), ("name", "Competency"), ("questions", "Questions"),
         ("answered", "Answered"), ("deflected", "Deflected (answered, rated helpful)"),
         ("deflected_share", "Share deflected"), ("minutes_saved_estimate", "Minutes saved (estimate)"),
         ("people", "People")),
        "Deflected: answered from the content and rated helpful. Time saved is an estimate: deflected questions "
        "times {minutes} minutes per question (COACH_MINUTES_PER_QUESTION), assuming each would otherwise have "
        "been asked of a person. Unrated answers are not counted, so it leans low."),
    "alignment": TableSpec(
        "Alignment with team focus", "The share of each team's learning activity on the competencies its manager "
                                     "set as the team's focus, per week.",
        (("team", "Team"), ("week", "Week of"), ("focus", "Focus competencies"), ("activities", "Activities"),
         ("on_focus", "On focus"), ("on_focus_share", "Share on focus"), ("people", "People")),
        "Learning activity: questions asked, lessons completed and spaced reviews, each with its competencies; on "
        "focus when one of them is a focus competency of the team (set with `coach team-focus` or in chat). The "
        "team's current focus is applied to every week; teams without one are not shown. A week of a team with "
        "fewer active people than the privacy threshold is hidden."),
}
