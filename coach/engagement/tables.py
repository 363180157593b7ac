"""The tables of an engagement summary: their titles, what they count, and their columns in display order. One
place, so the page, the CSV export, the charts and `coach report` all name things the same way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    title: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (key in each row, label)
    method: str = ""  # how it was computed, in words (the impact report says so under each chart)


_RATED = (("helpful", "Rated helpful"), ("not_helpful", "Rated not helpful"), ("unrated", "Not rated"))

TABLES: dict[str, TableSpec] = {
    "totals": TableSpec(
        "Totals", "The period at a glance; a line is missing when fewer people than the privacy threshold stand "
                  "behind it.",
        (("measure", "Measure"), ("value", "Value"))),
    "questions_per_day": TableSpec(
        "Questions per day and channel", "Questions asked each day (UTC), by where they were asked: a direct "
                                         "message, a channel, a thread, the web chat or the command line.",
        (("day", "Day"), ("channel", "Channel"), ("questions", "Questions"), ("people", "People"))),
    "answers_per_day": TableSpec(
        "Answered and rated per day", "Each day's questions: answered from the content or abstained (the content "
                                      "did not cover it, a content gap), and how askers rated the answers.",
        (("day", "Day"), ("questions", "Questions"), ("answered", "Answered"), ("abstained", "Abstained"),
         *_RATED, ("people", "People"))),
    "topics": TableSpec(
        "Top topics", "Questions per competency of the framework, most asked first (a question may have several).",
        (("competency", "Competency id"), ("name", "Competency"), ("questions", "Questions"), ("people", "People"),
         ("answered", "Answered"), ("abstained", "Abstained"), *_RATED)),
    "lessons_per_week": TableSpec(
        "Lessons per week", "Micro-lessons offered (suggested, sent by a nudge, or opened on request), started, "
                            "and completed (quiz answered the first time), per week starting Monday.",
        (("week", "Week of"), ("offered", "Offered"), ("started", "Started"), ("completed", "Completed"),
         ("people", "People"))),
    "competencies": TableSpec(
        "Lessons per competency", "Lessons offered, started and completed per competency, with the share of first "
                                  "quiz answers that were right.",
        (("competency", "Competency id"), ("name", "Competency"), ("offered", "Offered"), ("started", "Started"),
         ("completed", "Completed"), ("correct", "Right first time"), ("accuracy", "Quiz accuracy"),
         ("people", "People"))),
    "quiz_accuracy": TableSpec(
        "Quiz accuracy per competency over time", "Share of first quiz answers that were right, per competency "
                                                  "and week.",
        (("week", "Week of"), ("competency", "Competency id"), ("name", "Competency"), ("answers", "Answers"),
         ("correct", "Right"), ("accuracy", "Accuracy"), ("people", "People"))),
    "retention": TableSpec(
        "Spaced-review retention", "Share of spaced reviews (every quiz answer after the first on the same lesson) "
                                   "that were recalled, per week.",
        (("week", "Week of"), ("reviews", "Reviews"), ("recalled", "Recalled"), ("retention", "Retention"),
         ("people", "People"))),
    "nudges_per_week": TableSpec(
        "Nudges sent and acted on", "Proactive messages sent to people per week, and those acted on: the person "
                                    "asked a question, rated an answer, started a lesson or answered a quiz within "
                                    "24 hours.",
        (("week", "Week of"), ("sent", "Sent"), ("acted_on", "Acted on"), ("acted_on_share", "Share acted on"),
         ("people", "People"))),
    "nudges_by_kind": TableSpec(
        "Nudges by kind", "Proactive messages by kind: sent, acted on within 24 hours, failed, or skipped on "
                          "purpose (paused, past their time).",
        (("kind", "Kind"), ("label", "What it is"), ("sent", "Sent"), ("acted_on", "Acted on"),
         ("failed", "Failed"), ("skipped", "Skipped"), ("people", "People"))),
}


def table(name: str, rows: list[dict], hidden_rows: int = 0, specs: dict[str, TableSpec] | None = None) -> dict:
    """A table ready to render or serve: title, description, columns, rows, and how many rows privacy left out.
    `specs`: another report's tables (the impact report's), else the engagement summary's."""
    spec = (specs or TABLES)[name]
    return {"title": spec.title, "description": spec.description, **({"method": spec.method} if spec.method else {}),
            "columns": [{"key": key, "label": label} for key, label in spec.columns],
            "rows": [{key: row.get(key) for key, _ in spec.columns} for row in rows], "hidden_rows": hidden_rows}
