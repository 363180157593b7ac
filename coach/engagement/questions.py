"""What people ask: questions per day and channel, answered or abstained, rated helpful or not, and by topic.

Only the columns needed to count are read (who, where, when, tags, answered, rating): the text of a question never
leaves the database through here, redacted or not.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.engagement.scope import UNTAGGED, Bucket, Scope, day, folded, shown_keys, shown_total, visible
from coach.engagement.tables import table
from kernel.store import session
from coach.store.models import Need

OTHER = "(other)"  # the row that topics too few people asked about are folded into


def _outcome(answered: bool, feedback: str | None) -> dict[str, int]:
    return {"questions": 1, "answered": int(bool(answered)), "abstained": int(not answered),
            "helpful": int(feedback == "helpful"), "not_helpful": int(feedback == "not_helpful"),
            "unrated": int(not feedback)}


def tables(engine: Engine, scope: Scope) -> tuple[dict[str, dict], list[tuple[str, str, object]]]:
    """The question tables, and the totals lines (of the days shown; none when no day is).

    Hidden: a day with fewer than `min_group` askers, from every table (on a quiet day in a small team, "2
    questions, one not helpful" could point at the one person who works weekends); within the days shown, a
    (day, channel) row with fewer askers, and a topic fewer people asked about (folded into "other topics", shown
    when enough people are in it together). With a competency filter, only questions tagged with it count."""
    statement = scope.members(
        select(Need.learner_id, Need.channel, Need.topics, Need.answered, Need.feedback, Need.created_at)
        .where(Need.created_at >= scope.since, Need.created_at < scope.until), Need.learner_id)
    with session(engine) as db:
        rows = db.exec(statement).all()
    per_day: dict[str, Bucket] = defaultdict(Bucket)
    kept = []
    for learner_id, channel, topics, answered, feedback, created_at in rows:
        topics = list(topics or []) or [UNTAGGED]
        if scope.keeps(topics):
            outcome = _outcome(answered, feedback)
            per_day[day(created_at)].add(learner_id, **outcome)
            kept.append((learner_id, channel or "unknown", topics, outcome, day(created_at)))
    days = shown_keys(per_day, scope)  # a quiet day is in no table at all
    per_channel: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    per_topic: dict[str, Bucket] = defaultdict(Bucket)
    for learner_id, channel, topics, outcome, when in kept:
        per_channel[(when, channel)].add(learner_id, questions=1)
        if when in days:
            for topic in topics:
                if scope.keeps([topic]):
                    per_topic[topic].add(learner_id, **outcome)

    channel_rows, channel_hidden = visible(
        per_channel, scope, shown=lambda key: key[0] in days,
        row=lambda key, b: {"day": key[0], "channel": key[1], "questions": b.counts["questions"],
                            "people": len(b.people)})
    day_rows, day_hidden = visible(per_day, scope, row=lambda key, b: {"day": key, **_counts(b)})
    topic_rows, topic_hidden = folded(
        per_topic, scope, lambda key, b: {"competency": key, "name": "other topics" if key == OTHER else
                                          scope.name(key), **_counts(b)}, OTHER, "questions")
    totals: list[tuple[str, str, object]] = []
    everything = shown_total(per_day, scope)
    if scope.enough(everything.people):
        c = everything.counts
        totals = [("questions", "Questions asked", c["questions"]),
                  ("askers", "People who asked", len(everything.people)),
                  ("answered", "Answered from the content", c["answered"]),
                  ("abstained", "Abstained (content gaps)", c["abstained"]),
                  ("helpful", "Rated helpful", c["helpful"]), ("not_helpful", "Rated not helpful", c["not_helpful"]),
                  ("unrated", "Not rated", c["unrated"])]
    return {"questions_per_day": table("questions_per_day", channel_rows, channel_hidden),
            "answers_per_day": table("answers_per_day", day_rows, day_hidden),
            "topics": table("topics", topic_rows, topic_hidden)}, totals


def _counts(bucket: Bucket) -> dict:
    return {**{name: bucket.counts[name] for name in ("questions", "answered", "abstained", "helpful",
                                                       "not_helpful", "unrated")},
            "people": len(bucket.people)}
