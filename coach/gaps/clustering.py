"""Unanswered questions (and those answered only in part: `need.not_covered`) grouped by topic, stable enough to act on.

Leader clustering: questions are taken in the order they were asked; each joins the most similar *leader* (the
question that founded a cluster) when that cosine reaches the threshold, and founds a new cluster otherwise. A leader
never moves, so a question's cluster depends only on the questions asked before it. Clustering just the questions
new since the last run therefore gives exactly what clustering everything from scratch gives: the same data makes
the same clusters whenever it is run, and a cluster's id (derived from its leader) stays put as questions arrive, so
L&D can draft a lesson from a cluster and find it again. Vectorised: a batch of questions meets every leader in one
matrix product; only the batch's own new leaders are followed question by question.

Each question is embedded once, with the model that embeds the content, and its vector kept in `GapQuestion`. When
that order no longer holds (a founding question deleted by "forget me", a question recorded after later ones were
clustered, another embedding model or threshold), everything is clustered again from the kept vectors.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Callable, Sequence

import numpy as np
from sqlalchemy import String, cast, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kernel.store import as_utc, KnowledgeState, session
from coach.store.models import GapQuestion, Need

BATCH = 1024  # questions compared with the leaders at a time (a BATCH x BATCH matrix inside a batch)
EMBED_BATCH = 256
STATE_KEY = "gap_clustering"  # the model and threshold the stored clusters were made with
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")  # as Coach.ask searches a redacted question: without <EMAIL> and the like


def searchable(question: str) -> str:
    """The text a logged (redacted) question was searched with, and is embedded and re-asked with."""
    return _PLACEHOLDER.sub(" ", question).strip() or question


def cluster_id_for(need_id: str) -> str:
    return hashlib.sha256(f"gap:{need_id}".encode()).hexdigest()[:16]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(rows: Sequence[bytes]) -> np.ndarray:
    return np.stack([np.frombuffer(row, dtype=np.float32) for row in rows]) if rows else np.zeros((0, 0), np.float32)


def assign(vectors: np.ndarray, leaders: np.ndarray, threshold: float, *,
           batch_size: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, in order: the index of the leader it joins (into `leaders`, then the new leaders in the
    order they were founded), and whether it founded one. Ties go to the earlier leader. `batch_size` changes only
    the memory used, never the answer."""
    n = len(vectors)
    joined, founded = np.empty(n, dtype=np.int64), np.zeros(n, dtype=bool)
    leaders = leaders.reshape(-1, vectors.shape[1]) if n else leaders
    for start in range(0, n, batch_size):
        batch = vectors[start:start + batch_size]
        if len(leaders):
            sims = batch @ leaders.T
            best = sims.argmax(axis=1)
            best_sim = sims[np.arange(len(batch)), best]
        else:
            best, best_sim = np.full(len(batch), -1), np.full(len(batch), -np.inf)
        inner = batch @ batch.T
        new: list[int] = []  # positions in this batch of the leaders it founded
        for i in range(len(batch)):
            index, sim = int(best[i]), float(best_sim[i])
            if new:
                row = inner[i, new]
                j = int(row.argmax())
                if row[j] > sim:  # strictly: an older leader wins a tie
                    index, sim = len(leaders) + j, float(row[j])
            if sim >= threshold:
                joined[start + i] = index
            else:
                joined[start + i], founded[start + i] = len(leaders) + len(new), True
                new.append(i)
        leaders = np.vstack([leaders, batch[new]]) if new else leaders
    return joined, founded


def refresh(engine: Engine, *, embed: Callable[[Sequence[str]], np.ndarray], model: str, threshold: float) -> dict:
    """Embed the unanswered questions logged since the last run and put them in clusters; returns counts."""
    embedded = _embed_new(engine, embed, model)
    with session(engine) as db:
        stale = db.exec(select(GapQuestion.need_id).where(GapQuestion.model != model)).all()
        params = f"{model}|{threshold:.4f}"
        state = db.get(KnowledgeState, STATE_KEY)
        changed = state is None or state.value != params
    if stale:
        _reembed(engine, embed, model, list(stale))
    full = bool(stale) or changed or _out_of_order(engine)
    clustered = _cluster(engine, threshold, full)
    if changed:
        with session(engine) as db:
            state = db.get(KnowledgeState, STATE_KEY) or KnowledgeState(key=STATE_KEY)
            state.value = params
            db.add(state)
            try:
                db.commit()
            except IntegrityError:  # another process recorded it a moment ago: the same parameters
                db.rollback()
    return {"embedded": embedded + len(stale), "clustered": clustered, "from_scratch": full}


def _embed_new(engine: Engine, embed, model: str) -> int:
    with session(engine) as db:
        new = db.exec(select(Need.id, Need.question, Need.created_at)
                      .outerjoin(GapQuestion, GapQuestion.need_id == Need.id)
                      .where(or_(Need.answered == False, cast(Need.not_covered, String) != "[]"),  # noqa: E712
                             GapQuestion.need_id == None)  # noqa: E711
                      .order_by(Need.created_at, Need.id)).all()
    for start in range(0, len(new), EMBED_BATCH):
        rows = new[start:start + EMBED_BATCH]
        vectors = embed([searchable(question) for _, question, _ in rows])
        with session(engine) as db:
            db.add_all(GapQuestion(need_id=need_id, asked_at=asked_at, model=model, vector=to_bytes(vector))
                       for (need_id, _, asked_at), vector in zip(rows, vectors))
            try:
                db.commit()
            except IntegrityError:  # another process embedded them (or a need was deleted meanwhile): re-read later
                db.rollback()
    return len(new)


def _reembed(engine: Engine, embed, model: str, need_ids: list[str]) -> None:
    """Another embedding model is in use: the kept vectors are re-made with it (the clusters are then rebuilt)."""
    for start in range(0, len(need_ids), EMBED_BATCH):
        with session(engine) as db:
            rows = db.exec(select(Need.id, Need.question).where(Need.id.in_(need_ids[start:start + EMBED_BATCH]))).all()
            vectors = embed([searchable(question) for _, question in rows]) if rows else []
            db.execute(update(GapQuestion), [{"need_id": need_id, "model": model, "vector": to_bytes(vector)}
                                             for (need_id, _), vector in zip(rows, vectors)])
            db.commit()


def _out_of_order(engine: Engine) -> bool:
    """A cluster lost its leader, or a question waits to be clustered that was asked before one already clustered."""
    with session(engine) as db:
        leaders = db.exec(select(func.count()).select_from(GapQuestion)
                          .where(GapQuestion.leader == True)).one()  # noqa: E712
        clusters = db.exec(select(func.count(func.distinct(GapQuestion.cluster_id)))
                           .where(GapQuestion.cluster_id != "")).one()
        if leaders != clusters:
            return True
        last_done = db.exec(select(GapQuestion.asked_at, GapQuestion.need_id).where(GapQuestion.cluster_id != "")
                            .order_by(GapQuestion.asked_at.desc(), GapQuestion.need_id.desc()).limit(1)).first()
        first_new = db.exec(select(GapQuestion.asked_at, GapQuestion.need_id).where(GapQuestion.cluster_id == "")
                            .order_by(GapQuestion.asked_at, GapQuestion.need_id).limit(1)).first()
    return bool(last_done and first_new and _order(*first_new) < _order(*last_done))


def _order(asked_at: datetime, need_id: str) -> tuple[datetime, str]:
    return as_utc(asked_at), need_id


def _cluster(engine: Engine, threshold: float, full: bool) -> int:
    ordering = (GapQuestion.asked_at, GapQuestion.need_id)
    with session(engine) as db:
        todo = select(GapQuestion.need_id, GapQuestion.vector).order_by(*ordering)
        todo = db.exec(todo if full else todo.where(GapQuestion.cluster_id == "")).all()
        leaders = [] if full else db.exec(select(GapQuestion.need_id, GapQuestion.vector)
                                          .where(GapQuestion.leader == True).order_by(*ordering)).all()  # noqa: E712
    if not todo:
        return 0
    vectors = from_bytes([vector for _, vector in todo])
    old = from_bytes([vector for _, vector in leaders]).reshape(-1, vectors.shape[1])
    joined, founded = assign(vectors, old, threshold)
    ids = [cluster_id_for(need_id) for need_id, _ in leaders]
    ids += [cluster_id_for(need_id) for (need_id, _), new in zip(todo, founded) if new]
    changes = [{"need_id": need_id, "cluster_id": ids[j], "leader": bool(new)}
               for (need_id, _), j, new in zip(todo, joined, founded)]
    with session(engine) as db:
        for start in range(0, len(changes), 5000):
            db.execute(update(GapQuestion), changes[start:start + 5000])
        db.commit()
    return len(changes)
