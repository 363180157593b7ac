"""The content-gap report: clusters of unanswered questions with their demand and trend, ready to render or serve as
JSON. Only redacted question text leaves here, never who asked; `min_people` hides clusters asked by fewer people.
For anyone but L&D pass `min_people=settings.privacy_min_group` and `examples=0`: no question in anyone's words is
shown then, not even as the label (the topic stands in)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import as_utc, session
from coach.store.models import GapQuestion, Lesson, Need

STATUSES = ("open", "closed", "all")
LESSON_PREFIX = "draft-gap-"  # lessons drafted from a cluster are keyed draft-gap-<cluster id>[-n]


@dataclass(frozen=True)
class Closer:
    source_id: str
    title: str
    questions: int  # how many of the cluster's questions its content answered
    closed_at: datetime


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str  # the question asked most often in these words (ties: the one that founded the cluster)
    topic: str  # the competency most of its questions were tagged with ("" when none)
    status: str  # open (some questions still unanswered) | closed
    questions: int
    open_questions: int
    people: int  # distinct askers
    this_period: int  # questions asked in the last `period_days`
    previous_period: int  # ... and in the period before that
    trend: str  # new | rising | falling | steady
    weekly: list[dict]  # [{"week": "2026-11-16", "questions": 3}], oldest first, the current week last
    examples: list[str]  # distinct questions, most asked first (redacted text)
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None  # when its last open question was answered (closed clusters)
    closed_by: list[Closer]  # the sources whose content answered its questions, most questions first
    lessons: list[str]  # keys of lessons drafted from it

    def as_json(self) -> dict:
        data = asdict(self)
        for name in ("first_seen", "last_seen", "closed_at"):
            data[name] = data[name] and data[name].isoformat()
        for closer in data["closed_by"]:
            closer["closed_at"] = closer["closed_at"].isoformat()
        return data


@dataclass
class _Row:
    need_id: str
    asked_at: datetime
    leader: bool
    closed_at: datetime | None
    closed_by: str
    closed_by_title: str
    learner_id: str
    question: str
    topics: list[str]


def clusters(engine: Engine, *, now: datetime, status: str = "open", period_days: int = 14, weeks: int = 8,
             examples: int = 3, min_people: int = 1, cluster_id: str | None = None) -> list[Cluster]:
    """Clusters sorted by demand: most people first, then most questions, then the most recently asked."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    by_cluster = _rows(engine, cluster_id)
    lessons = _lessons(engine)
    found = []
    for cid, rows in by_cluster.items():
        item = _summarise(cid, rows, now, period_days, weeks, examples,
                          [k for k in lessons if k[len(LESSON_PREFIX):].startswith(cid)])
        if (status == "all" or item.status == status) and item.people >= min_people:
            found.append(item)
    return sorted(found, key=lambda c: (-c.people, -c.questions, -c.last_seen.timestamp(), c.id))


def questions(engine: Engine, cluster_id: str, limit: int = 10) -> list[str]:
    """A cluster's distinct questions, most asked first (what a lesson drafted from it should answer)."""
    rows = _rows(engine, cluster_id).get(cluster_id, [])
    return _distinct(rows)[:limit]


def _rows(engine: Engine, cluster_id: str | None) -> dict[str, list[_Row]]:
    query = (select(GapQuestion.cluster_id, GapQuestion.need_id, GapQuestion.asked_at, GapQuestion.leader,
                    GapQuestion.closed_at, GapQuestion.closed_by, GapQuestion.closed_by_title, Need.learner_id,
                    Need.question, Need.topics)
             .join(Need, Need.id == GapQuestion.need_id)
             .where(GapQuestion.cluster_id == cluster_id if cluster_id else GapQuestion.cluster_id != "")
             .order_by(GapQuestion.asked_at, GapQuestion.need_id))
    grouped: dict[str, list[_Row]] = defaultdict(list)
    with session(engine) as db:
        for cid, need_id, asked_at, leader, closed_at, closed_by, title, learner_id, question, topics in db.exec(query):
            grouped[cid].append(_Row(need_id, as_utc(asked_at), leader, closed_at and as_utc(closed_at), closed_by,
                                     title, learner_id, question, list(topics or [])))
    return grouped


def _lessons(engine: Engine) -> list[str]:
    with session(engine) as db:
        return sorted(db.exec(select(Lesson.key).where(Lesson.key.startswith(LESSON_PREFIX))).all())


def _summarise(cid: str, rows: list[_Row], now: datetime, period_days: int, weeks: int, examples: int,
               lessons: list[str]) -> Cluster:
    open_rows = [r for r in rows if r.closed_at is None]
    period = timedelta(days=period_days)
    this = sum(1 for r in rows if r.asked_at > now - period)
    previous = sum(1 for r in rows if now - 2 * period < r.asked_at <= now - period)
    first_seen, last_seen = rows[0].asked_at, rows[-1].asked_at
    if previous == 0 and this and first_seen > now - period:
        trend = "new"
    else:
        trend = "rising" if this > previous else "falling" if this < previous else "steady"
    topics = Counter(t for r in rows for t in r.topics)
    closers: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.closed_at is not None:
            closers[r.closed_by].append(r)
    closed_by = sorted((Closer(source_id, rs[-1].closed_by_title, len(rs), max(r.closed_at for r in rs))
                        for source_id, rs in closers.items()), key=lambda c: (-c.questions, c.source_id))
    distinct = _distinct(rows)
    topic = min(topics, key=lambda t: (-topics[t], t)) if topics else ""
    return Cluster(
        id=cid, label=distinct[0] if examples else topic, topic=topic,
        status="open" if open_rows else "closed", questions=len(rows), open_questions=len(open_rows),
        people=len({r.learner_id for r in rows}), this_period=this, previous_period=previous, trend=trend,
        weekly=_weekly(rows, now, weeks), examples=distinct[:examples], first_seen=first_seen, last_seen=last_seen,
        closed_at=None if open_rows else max(r.closed_at for r in rows), closed_by=closed_by, lessons=lessons)


def _distinct(rows: list[_Row]) -> list[str]:
    """Distinct wordings (case and spacing aside), most asked first; ties: the founding question, then the earliest."""
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, int, str]] = {}
    for n, r in enumerate(rows):
        key = " ".join(r.question.lower().split())
        counts[key] += 1
        rank = (0 if r.leader else 1, n, r.question)
        first[key] = min(first.get(key, rank), rank)
    return [first[k][2] for k in sorted(counts, key=lambda k: (-counts[k], first[k][:2]))]


def _weekly(rows: list[_Row], now: datetime, weeks: int) -> list[dict]:
    """Questions per week, the last `weeks` weeks ending with the current one (weeks start on Monday, UTC)."""
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [this_monday - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    counts = Counter((r.asked_at - timedelta(days=r.asked_at.weekday())).date() for r in rows)
    return [{"week": s.date().isoformat(), "questions": counts.get(s.date(), 0)} for s in starts]
