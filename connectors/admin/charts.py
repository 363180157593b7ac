"""Vega-Lite v5 specs for the reports page, built from an engagement summary (coach/engagement): plain dicts, to
serve as JSON and draw with the vendored scripts (static/vendor/, no CDN) through `vegaEmbed(element, spec,
EMBED_OPTIONS)`.

Each spec carries its data inline (the rows of one summary table, already privacy-checked, reshaped at most into
long form), a title, and a `description` that Vega puts on the drawing as its ARIA label; the page shows the same
numbers as a table under each chart (`usermeta.table` names it), for screen readers and for people who would rather
read. Days and weeks are UTC dates, drawn on UTC scales so no viewer's time zone shifts a bar to the day before.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier: nothing fetches it
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")  # under /admin/static/vendor/, in this order
EMBED_OPTIONS = {"renderer": "svg", "actions": False}  # SVG: sharp, and its marks are in the page for tests
TOP_TOPICS = 10
_PERCENT = {"format": ".0%"}
_COUNT = {"tickMinStep": 1, "format": "d"}  # whole questions, lessons, nudges
# colour-blind-safe pairs (Vega's tableau10 blue and orange), a neutral grey, and blues for a funnel
BLUE, ORANGE, GREY, PALE, MIDDLE = "#4c78a8", "#f58518", "#9d9d9d", "#c6dbef", "#6baed6"
_DAY = {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": "Day",
        "axis": {"format": "%d %b"}}
_WEEK = {"field": "week", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": "Week of",
         "axis": {"format": "%d %b"}}


def charts(summary: dict) -> dict[str, dict]:
    """Every chart of the reports page, by id, in page order."""
    return {name: build(summary) for name, build in BUILDERS.items()}


def questions_per_day(summary: dict) -> dict:
    rows = _rows(summary, "questions_per_day")
    return _spec("questions_per_day", "Questions per day, by channel",
                 "Stacked bars: questions asked each day, split by channel (direct message, channel, thread, web "
                 f"chat, command line). {_total(rows, 'questions')} questions on {len({r['day'] for r in rows})} "
                 "days shown.", rows,
                 mark={"type": "bar", "tooltip": True},
                 encoding={"x": _DAY, "y": {"field": "questions", "type": "quantitative", "aggregate": "sum",
                                            "stack": "zero", "title": "Questions", "axis": _COUNT},
                           "color": {"field": "channel", "type": "nominal", "title": "Channel"}})


def answered_vs_abstained(summary: dict) -> dict:
    rows = _long(_rows(summary, "answers_per_day"), "day", {"answered": "Answered", "abstained": "Abstained"})
    return _spec("answers_per_day", "Answered vs abstained",
                 "Stacked bars per day: questions answered from the content and questions it could not answer "
                 f"(content gaps). {_sum(rows, 'Answered')} answered, {_sum(rows, 'Abstained')} abstained.", rows,
                 mark={"type": "bar", "tooltip": True},
                 encoding={"x": _DAY, "y": _stacked("Questions"),
                           "color": _outcome({"Answered": BLUE, "Abstained": ORANGE}, "Outcome")})


def helpful_vs_not(summary: dict) -> dict:
    labels = {"helpful": "Helpful", "not_helpful": "Not helpful", "unrated": "Not rated"}
    colours = dict(zip(labels.values(), (BLUE, ORANGE, GREY)))
    rows = _long(_rows(summary, "answers_per_day"), "day", labels)
    return _spec("answers_per_day", "Helpful vs not helpful",
                 f"Stacked bars per day: answers rated helpful ({_sum(rows, 'Helpful')}), not helpful "
                 f"({_sum(rows, 'Not helpful')}) and not rated ({_sum(rows, 'Not rated')}).", rows,
                 mark={"type": "bar", "tooltip": True},
                 encoding={"x": _DAY, "y": _stacked("Answers"), "color": _outcome(colours, "Rating")})


def top_topics(summary: dict) -> dict:
    rows = _rows(summary, "topics")[:TOP_TOPICS]
    listed = "; ".join(f"{r['name']}: {r['questions']}" for r in rows[:5])
    return _spec("topics", "Top topics", f"Horizontal bars: questions per competency, most asked first. {listed}.",
                 rows, mark={"type": "bar", "tooltip": True},
                 encoding={"y": {"field": "name", "type": "nominal", "sort": "-x", "title": None},
                           "x": {"field": "questions", "type": "quantitative", "title": "Questions",
                                 "axis": _COUNT}})


def lessons_per_week(summary: dict) -> dict:
    labels = {"offered": "Offered", "started": "Started", "completed": "Completed"}
    rows = _long(_rows(summary, "lessons_per_week"), "week", labels)
    return _spec("lessons_per_week", "Lessons offered, started and completed",
                 f"Grouped bars per week: lessons offered ({_sum(rows, 'Offered')}), started "
                 f"({_sum(rows, 'Started')}) and completed ({_sum(rows, 'Completed')}).", rows,
                 mark={"type": "bar", "tooltip": True},
                 encoding=_grouped(dict(zip(labels.values(), (PALE, MIDDLE, BLUE))), "Lessons"))


def quiz_accuracy(summary: dict) -> dict:
    rows = _rows(summary, "quiz_accuracy")
    return _spec("quiz_accuracy", "Quiz accuracy per competency over time",
                 "Lines per competency: the share of first quiz answers that were right, per week, from 0 to 100 "
                 f"percent. {len({r['competency'] for r in rows})} competencies shown.", rows,
                 mark={"type": "line", "point": True, "tooltip": True},
                 encoding={"x": _WEEK, "y": _share("accuracy", "Accuracy"),
                           "color": {"field": "name", "type": "nominal", "title": "Competency"}})


def retention(summary: dict) -> dict:
    rows = _rows(summary, "retention")
    return _spec("retention", "Spaced-review retention",
                 "A line: the share of spaced reviews recalled, per week, from 0 to 100 percent. "
                 f"{_total(rows, 'reviews')} reviews in all.", rows,
                 mark={"type": "line", "point": True, "tooltip": True},
                 encoding={"x": _WEEK, "y": _share("retention", "Recalled")})


def nudges(summary: dict) -> dict:
    labels = {"sent": "Sent", "acted_on": "Acted on"}
    rows = _long(_rows(summary, "nudges_per_week"), "week", labels)
    return _spec("nudges_per_week", "Nudges sent vs acted on",
                 f"Grouped bars per week: nudges sent ({_sum(rows, 'Sent')}) and acted on within 24 hours "
                 f"({_sum(rows, 'Acted on')}).", rows,
                 mark={"type": "bar", "tooltip": True},
                 encoding=_grouped(dict(zip(labels.values(), (PALE, BLUE))), "Nudges"))


BUILDERS = {"questions_per_day": questions_per_day, "answered_vs_abstained": answered_vs_abstained,
            "helpful_vs_not": helpful_vs_not, "top_topics": top_topics, "lessons_per_week": lessons_per_week,
            "quiz_accuracy": quiz_accuracy, "retention": retention, "nudges": nudges}


def _spec(table: str, title: str, description: str, rows: list[dict], **body) -> dict:
    return {"$schema": SCHEMA, "title": title, "description": description, "width": "container", "height": 220,
            "autosize": {"type": "fit", "contains": "padding"}, "data": {"values": rows},
            "usermeta": {"table": table, "empty": not rows}, **body}


def _rows(summary: dict, table: str) -> list[dict]:
    return [dict(row) for row in summary["tables"][table]["rows"]]


def _long(rows: list[dict], key: str, labels: dict[str, str]) -> list[dict]:
    """Wide rows ({day, answered, abstained}) as long ones ({day, measure, count}): one mark per measure."""
    return [{key: row[key], "measure": label, "count": row.get(field) or 0} for row in rows
            for field, label in labels.items()]


def _stacked(title: str) -> dict:
    return {"field": "count", "type": "quantitative", "aggregate": "sum", "stack": "zero", "title": title,
            "axis": _COUNT}


def _outcome(colours: dict[str, str], title: str) -> dict:
    """Each measure's colour, in a fixed order: blue for the good outcome, orange for the bad, grey for unknown."""
    return {"field": "measure", "type": "nominal", "title": title, "sort": list(colours),
            "scale": {"domain": list(colours), "range": list(colours.values())}}


def _grouped(colours: dict[str, str], title: str) -> dict:
    """Bars side by side per week: a discrete x (xOffset needs a band scale), weeks as their ISO Monday."""
    return {"x": {"field": "week", "type": "ordinal", "title": "Week of", "axis": {"labelAngle": 0}},
            "xOffset": {"field": "measure", "sort": list(colours)},
            "y": {"field": "count", "type": "quantitative", "title": title, "axis": _COUNT},
            "color": _outcome(colours, title)}


def _share(field: str, title: str) -> dict:
    return {"field": field, "type": "quantitative", "title": title, "scale": {"domain": [0, 1]}, "axis": _PERCENT}


def _total(rows: list[dict], field: str) -> int:
    return sum(row.get(field) or 0 for row in rows)


def _sum(rows: list[dict], label: str) -> int:
    return sum(row["count"] for row in rows if row["measure"] == label)
