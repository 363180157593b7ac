"""Whether nudges lead anywhere: proactive messages sent, and how many were acted on.

*Acted on* is defined from what is already recorded, so no new tracking was added: a message sent to a person
(`NudgeDelivery` in state `sent`) counts as acted on when that person, within ACTED_WITHIN of it, asked a question
(`Need.created_at`), rated an answer (`Need.feedback_at`), started a lesson (`LessonOffer.started_at`, set by the
lesson buttons every nudge carries) or answered a quiz (`LessonAttempt.at`). It is an association, not proof the
message caused it. A press of *Resume* after an auto-pause notice is not counted: the profile keeps only the
resulting flag, with no time. Posts to a channel (a manager's nudge to a channel) reach no one in particular: they
are counted as `channel_posts` in the totals of a report on everyone, and in no table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.engagement.scope import Bucket, Scope, folded, share, shown_keys, shown_total, visible, week
from coach.engagement.tables import table
from coach.nudges.ladder import SENT_REASON
from kernel.store import as_utc, session
from coach.store.models import Lesson, LessonAttempt, LessonOffer, Need, NudgeDelivery, NudgeSchedule

ACTED_WITHIN = timedelta(hours=24)
OTHER = "(other)"
KINDS = {  # NudgeDelivery.kind -> what it is, for people reading the report
    "nudge": "a manager's scheduled nudge", "follow_up": "the follow-up of a lesson offered under an answer",
    "review": "spaced reviews that fell due", "reminder": "a reminder of a lesson a nudge sent",
    "auto_pause": "the notice that nudges paused themselves", "gap_closed": "an answer to an earlier content gap",
    OTHER: "kinds too few people received",
}


def tables(engine: Engine, scope: Scope) -> tuple[dict[str, dict], list[tuple[str, str, object]]]:
    """The nudge tables and their totals lines (of the weeks shown; none when no week is).

    Hidden: a week with fewer than `min_group` people sent a message, from every table; within the weeks shown, a
    kind of message fewer people received (folded into "other kinds"). With a competency filter, only messages
    tied to a lesson of that competency count (a manager's nudge with a lesson, a follow-up, a reminder);
    spaced-review digests may hold several lessons and do not count then."""
    deliveries, channel_posts = _deliveries(engine, scope)
    activity = _activity(engine, scope, {d[0] for d in deliveries if d[1] == "sent"})
    per_week: dict[str, Bucket] = defaultdict(Bucket)
    acted: dict[int, int] = {}
    for n, (learner_id, state, _kind, created_at) in enumerate(deliveries):
        if state == "sent":
            acted[n] = int(_acted(activity.get(learner_id, []), as_utc(created_at)))
            per_week[week(created_at)].add(learner_id, sent=1, acted_on=acted[n])
    weeks = shown_keys(per_week, scope)  # a quiet week is in no table at all
    per_kind: dict[str, Bucket] = defaultdict(Bucket)
    for n, (learner_id, state, kind, created_at) in enumerate(deliveries):
        if week(created_at) not in weeks:
            continue
        if state == "sent":
            per_kind[kind].add(learner_id, sent=1, acted_on=acted[n])
        elif state in ("failed", "skipped"):
            per_kind[kind].add(learner_id, **{state: 1})
    week_rows, week_hidden = visible(per_week, scope, lambda key, b: {
        "week": key, "sent": b.counts["sent"], "acted_on": b.counts["acted_on"],
        "acted_on_share": share(b.counts["acted_on"], b.counts["sent"]), "people": len(b.people)})
    kind_rows, kind_hidden = folded(per_kind, scope, lambda key, b: {
        "kind": key, "label": KINDS.get(key, key), "sent": b.counts["sent"], "acted_on": b.counts["acted_on"],
        "failed": b.counts["failed"], "skipped": b.counts["skipped"], "people": len(b.people)}, OTHER, "sent")
    totals: list[tuple[str, str, object]] = []
    everyone = shown_total(per_week, scope)
    if scope.enough(everyone.people):
        totals = [("nudges_sent", "Nudges sent", everyone.counts["sent"]),
                  ("nudges_acted_on", "Nudges acted on", everyone.counts["acted_on"]),
                  ("people_nudged", "People nudged", len(everyone.people))]
    if channel_posts:
        totals.append(("channel_posts", "Nudges posted in channels", channel_posts))
    return {"nudges_per_week": table("nudges_per_week", week_rows, week_hidden),
            "nudges_by_kind": table("nudges_by_kind", kind_rows, kind_hidden)}, totals


def _acted(times: list[datetime], sent_at: datetime) -> bool:
    """Any activity in (sent_at, sent_at + ACTED_WITHIN]; `times` sorted."""
    after = bisect_right(times, sent_at)
    return after < len(times) and times[after] <= sent_at + ACTED_WITHIN


def _deliveries(engine: Engine, scope: Scope) -> tuple[list[tuple], int]:
    """(learner, state, kind, created_at) of the messages to people in the scope, and how many channel posts the
    period had (counted only when the report is on everyone and not narrowed to a competency)."""
    with session(engine) as db:
        channels = {c for c in db.exec(select(NudgeSchedule.channel).where(NudgeSchedule.channel != "")).all()}
        rows = db.exec(scope.members(select(
            NudgeDelivery.learner_id, NudgeDelivery.state, NudgeDelivery.kind, NudgeDelivery.created_at,
            NudgeDelivery.key).where(NudgeDelivery.created_at >= scope.since, NudgeDelivery.created_at < scope.until),
            NudgeDelivery.learner_id)).all()
    posts = sum(1 for r in rows if r[0] in channels and r[1] == "sent")
    rows = [r for r in rows if r[0] not in channels]
    if scope.competency is not None:
        lessons = _lessons_of(engine, rows)
        rows = [r for r in rows if scope.competency in lessons.get(r[4], ())]
    return [tuple(r)[:4] for r in rows], 0 if scope.teams or scope.competency else posts


def _lessons_of(engine: Engine, rows: list) -> dict[str, list[str]]:
    """Delivery key -> the competencies of the one lesson it carried, where the key or its schedule says which:
    `<schedule id>:...` (the schedule's lesson), `follow_up:<learner>:<lesson>`, `ladder:<offer id>:<rung>`."""
    schedule_ids = {r[4].split(":", 1)[0] for r in rows if r[2] == "nudge"}
    offer_ids = {int(r[4].split(":")[1]) for r in rows if r[4].startswith("ladder:") and r[4].split(":")[1].isdigit()}
    with session(engine) as db:
        scheduled = dict(db.exec(select(NudgeSchedule.id, NudgeSchedule.lesson_key)
                                 .where(NudgeSchedule.id.in_(schedule_ids))).all()) if schedule_ids else {}
        offered = dict(db.exec(select(LessonOffer.id, LessonOffer.lesson_key).where(
            LessonOffer.id.in_(offer_ids), LessonOffer.reason.startswith(SENT_REASON))).all()) if offer_ids else {}
        tags = {key: list(c or []) for key, c in db.exec(select(Lesson.key, Lesson.competencies)).all()}
    out: dict[str, list[str]] = {}
    for learner_id, _state, kind, _at, key in rows:
        if kind == "nudge":
            lesson = scheduled.get(key.split(":", 1)[0], "")
        elif kind == "follow_up":
            lesson = key.rpartition(":")[2]
        elif key.startswith("ladder:") and key.split(":")[1].isdigit():
            lesson = offered.get(int(key.split(":")[1]), "")
        else:
            lesson = ""
        out[key] = tags.get(lesson, [])
    return out


def _activity(engine: Engine, scope: Scope, learners: set[str]) -> dict[str, list[datetime]]:
    """Learner -> the sorted times they did anything with the coach, from the period's start to a window past
    its end (a message sent on the last day may be acted on the next)."""
    if not learners:
        return {}
    since, until = scope.since, scope.until + ACTED_WITHIN
    found: dict[str, list[datetime]] = defaultdict(list)
    columns = [(Need.learner_id, Need.created_at), (Need.learner_id, Need.feedback_at),
               (LessonOffer.learner_id, LessonOffer.started_at), (LessonAttempt.learner_id, LessonAttempt.at)]
    with session(engine) as db:
        for learner_column, at_column in columns:
            statement = scope.members(select(learner_column, at_column).where(at_column >= since, at_column < until),
                                      learner_column)
            for learner_id, at in db.exec(statement).all():
                if learner_id in learners:
                    found[learner_id].append(as_utc(at))
    return {learner_id: sorted(times) for learner_id, times in found.items()}
