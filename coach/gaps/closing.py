"""Closing the loop: after new or updated content is ingested, the open gap questions it could plausibly answer are
asked again, each as the learner who asked it (their audience groups apply, so restricted content never closes a
gap for someone outside its audience). A question now answered with confidence is closed with the source that
answered it, and its asker is owed one message with the answer (`GapNotice`, sent by the worker: see notices.py).

Re-asking goes straight to the answerer: it is not a question from anyone, so it logs no need and counts against no
rate limit. It stays fast with many open gaps: every open question's kept vector meets the new content's chunk
vectors in one matrix product, and only those close enough to a chunk their asker may see are asked again; identical
questions with the same audience are asked once, and the sentences of the new passages are embedded once for all.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from coach.answering import Answerer
from coach.gaps.clustering import from_bytes, searchable
from coach.i18n import speaking
from coach.learners import language_of
from coach.messages import IncomingMessage, Reply
from kernel.store import as_utc, session
from coach.store.models import GapNotice, GapQuestion, Learner, Need

log = logging.getLogger(__name__)

PLAUSIBLE = 0.3  # MiniLM's cosine between a question and a chunk below which the chunk cannot be what answers it
# (each embedding model's own is in coach/thresholds.json: `gap_plausible`)
UNREACHABLE = ("web", "cli")  # chats the coach cannot message later: their askers see the answer when they ask again
EVERYONE = "everyone"

# the audiences and vectors of the chunks of these sources (knowledge.base.KnowledgeBase.chunk_vectors)
ChunkVectors = Callable[[Iterable[str]], tuple[list[tuple[str, ...]], np.ndarray]]


@dataclass
class _Open:
    need_id: str
    cluster_id: str
    vector: np.ndarray
    learner_id: str
    question: str
    platform: str
    asked_at: datetime
    partly: bool = False  # answered in part (need.not_covered): closed only once the rest is mentioned too


class Remembering:
    """An embedding function that remembers what it embedded: re-asking many questions over the same new passages
    embeds each of their sentences once, and each question not at all (its vector is already kept)."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], known: dict[str, np.ndarray]) -> None:
        self.embed, self.known = embed, known

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.embed(missing)))
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def recheck(engine: Engine, *, answerer: Answerer, chunk_vectors: ChunkVectors, source_ids: set[str],
            now: datetime, notify_days: int, plausible: float = PLAUSIBLE) -> dict[str, int]:
    """Ask the open questions the content of `source_ids` may answer again; close the answered ones and owe their
    askers the answer. Returns counts: rechecked (distinct questions asked again), closed, owed (messages)."""
    counts = {"rechecked": 0, "closed": 0, "owed": 0}
    questions = _open_questions(engine)
    if not questions or not source_ids:
        return counts
    audiences, chunks = chunk_vectors(source_ids)
    if not len(chunks):
        return counts
    groups = _groups(engine, {q.learner_id for q in questions})
    candidates = _plausible(questions, groups, audiences, chunks, plausible)
    asked: dict[tuple[str, tuple[str, ...]], list[_Open]] = defaultdict(list)
    for q in candidates:
        asked[(searchable(q.question), groups.get(q.learner_id, ()))].append(q)
    reasker = Answerer(retriever=answerer.retriever, abstention=answerer.abstention, groups_of=answerer.groups_of,
                       writer=answerer.writer,
                       embed=Remembering(answerer.embed, {searchable(q.question): q.vector for q in candidates}))
    answered: list[tuple[_Open, Reply]] = []
    for (text, _), same in asked.items():
        first = same[0]
        try:  # answered in the asker's language, as they will read it
            with speaking(language_of(engine, first.learner_id)):
                decision, reply = reasker.answer(IncomingMessage(learner_id=first.learner_id, text=text,
                                                                 channel="dm", platform=first.platform))
        except Exception:  # one question failing to re-ask must not stop the others (or the ingestion)
            log.exception("re-asking a content-gap question failed")
            continue
        counts["rechecked"] += 1
        if reply.abstained:
            continue
        # a question answered in part stays a gap while the answer still says some of it is not covered
        done = [q for q in same if not (q.partly and decision.not_covered)]
        if not done:
            continue
        source_id, title = _closer(reply, source_ids)
        closed = _close(engine, [q.need_id for q in done], source_id, title, now)
        answered += [(q, reply) for q in same if q.need_id in closed]
    counts["closed"] = len(answered)
    counts["owed"] = _owe(engine, answered, now, notify_days)
    return counts


def _open_questions(engine: Engine) -> list[_Open]:
    with session(engine) as db:
        rows = db.exec(select(GapQuestion.need_id, GapQuestion.cluster_id, GapQuestion.vector, Need.learner_id,
                              Need.question, Need.platform, Need.created_at, Need.answered)
                       .join(Need, Need.id == GapQuestion.need_id)
                       .where(GapQuestion.closed_at == None, GapQuestion.cluster_id != "")  # noqa: E711
                       .order_by(GapQuestion.asked_at, GapQuestion.need_id)).all()
    if not rows:
        return []
    vectors = from_bytes([row[2] for row in rows])
    return [_Open(need_id, cid, vector, learner_id, question, platform, as_utc(asked_at), answered)
            for (need_id, cid, _, learner_id, question, platform, asked_at, answered), vector in zip(rows, vectors)]


def _groups(engine: Engine, learner_ids: set[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    ids = sorted(learner_ids)
    with session(engine) as db:
        for start in range(0, len(ids), 5000):
            for learner_id, groups in db.exec(select(Learner.id, Learner.groups)
                                              .where(Learner.id.in_(ids[start:start + 5000]))):
                found[learner_id] = tuple(sorted({g.lower() for g in groups or []}))
    return found


def _plausible(questions: list[_Open], groups: dict[str, tuple[str, ...]], audiences: list[tuple[str, ...]],
               chunks: np.ndarray, plausible: float) -> list[_Open]:
    """The questions within `plausible` of a new chunk that their asker may see (one product per distinct
    audience)."""
    matrix = np.stack([q.vector for q in questions])
    if matrix.shape[1] != chunks.shape[1]:
        return []  # vectors of another model: the next clustering refresh re-embeds them
    by_audience: dict[frozenset, list[int]] = defaultdict(list)
    for i, audience in enumerate(audiences):
        by_audience[frozenset(a.lower() for a in audience)].append(i)
    best = {audience: (matrix @ chunks[rows].T).max(axis=1) for audience, rows in by_audience.items()}
    found = []
    for n, q in enumerate(questions):
        mine = {EVERYONE, *groups.get(q.learner_id, ())}
        if max((float(scores[n]) for audience, scores in best.items() if audience & mine), default=-1.0) >= plausible:
            found.append(q)
    return found


def _closer(reply: Reply, new_sources: set[str]) -> tuple[str, str]:
    """The source that answered: the first cited one among the new content, else the first cited."""
    cited = reply.cited or reply.citations
    chosen = next((c for c in cited if c.source_id in new_sources), cited[0] if cited else None)
    return (chosen.source_id, chosen.title) if chosen else ("", "")


def _close(engine: Engine, need_ids: list[str], source_id: str, title: str, now: datetime) -> set[str]:
    """Close those still open (another ingestion may have closed some a moment ago); returns the ones closed here."""
    closed: set[str] = set()
    for start in range(0, len(need_ids), 5000):  # within every database's limit on bound parameters
        batch = need_ids[start:start + 5000]
        with session(engine) as db:
            still_open = set(db.exec(select(GapQuestion.need_id).where(
                GapQuestion.need_id.in_(batch), GapQuestion.closed_at == None).with_for_update()).all())  # noqa: E711
            if still_open:
                db.exec(update(GapQuestion).where(GapQuestion.need_id.in_(still_open))
                        .values(closed_at=now, closed_by=source_id[:32], closed_by_title=title[:500]))
                db.commit()
        closed |= still_open
    return closed


def _owe(engine: Engine, answered: list[tuple[_Open, Reply]], now: datetime, notify_days: int) -> int:
    """One message per person and cluster, answering their latest question in it; none for chats the coach cannot
    reach later, or for questions older than `notify_days`."""
    latest: dict[tuple[str, str], tuple[_Open, Reply]] = {}
    for q, reply in answered:
        if q.platform in UNREACHABLE or q.asked_at < now - timedelta(days=notify_days):
            continue
        key = (q.learner_id, q.cluster_id)
        if key not in latest or (q.asked_at, q.need_id) > (latest[key][0].asked_at, latest[key][0].need_id):
            latest[key] = (q, reply)
    replies = {id(reply): reply_json(reply) for _, reply in latest.values()}
    notices = [GapNotice(key=f"gap_answer:{q.need_id}", need_id=q.need_id, learner_id=q.learner_id,
                         cluster_id=q.cluster_id, question=q.question, asked_at=q.asked_at,
                         reply=replies[id(reply)], created_at=now) for q, reply in latest.values()]
    owed = 0
    for start in range(0, len(notices), 500):
        owed += _insert(engine, notices[start:start + 500])
    return owed


def _insert(engine: Engine, notices: list[GapNotice]) -> int:
    """All at once; one by one when one of them clashes (owed already, or its asker was forgotten a moment ago)."""
    with session(engine) as db:
        db.add_all(notices)
        try:
            db.commit()
            return len(notices)
        except IntegrityError:
            db.rollback()
    if len(notices) == 1:
        return 0
    return sum(_insert(engine, [GapNotice(**n.model_dump())]) for n in notices)


def reply_json(reply: Reply) -> dict:
    return {"text": reply.text, "mode": reply.mode, "notice": reply.notice,
            "citations": [{**asdict(c), "updated_at": c.updated_at.isoformat()} for c in reply.citations]}
