"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused, filtered by audience, from the database.

The audience filter is applied three times: inside the Chroma query, inside the BM25 scores, and against the
database rows that the results are read from (the source of truth). A learner never receives a chunk whose audience
they are not in, and never a chunk the database no longer holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.store.db import session
from knowledge.documents import describe_locator
from knowledge.embeddings import Embedder
from knowledge.fusion import convex, rrf
from knowledge.ingest import corpus_version
from knowledge.keyword_index import KeywordIndex
from knowledge.models import EVERYONE, Chunk, Source
from knowledge.vector_index import VectorIndex

MODES = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    source_id: str
    source_key: str
    title: str
    doc_type: str
    text: str
    locator: dict
    where: str  # "p. 3", "slide 4", "Expenses › Mileage", "1:23"
    link: str
    updated_at: datetime
    audience: tuple[str, ...]
    score: float  # fused score in [0, 1]
    dense: float | None  # cosine similarity, when the dense retriever found it
    keyword: float | None  # BM25 score, when the keyword retriever found it


class HybridRetriever:
    def __init__(self, *, engine: Engine, vectors: VectorIndex, keyword: KeywordIndex, embedder: Embedder,
                 candidates: int = 40, dense_weight: float = 0.7, fusion: str = "convex") -> None:
        self.engine, self.vectors, self.keyword, self.embedder = engine, vectors, keyword, embedder
        self.candidates, self.dense_weight, self.fusion = candidates, dense_weight, fusion
        self._rebuild_lock = threading.Lock()

    def search(self, query: str, *, groups: Iterable[str] = (), k: int = 5, mode: str = "hybrid") -> list[Passage]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        query = query.strip()
        if not query or k <= 0:
            return []
        groups = sorted({g.lower() for g in groups} | {EVERYONE})
        dense = keyword = []
        if mode in ("hybrid", "dense"):
            dense = self.vectors.query(self.embedder.embed_query(query), groups=groups, n=self.candidates)
        if mode in ("hybrid", "keyword"):
            self.refresh_keyword_index()
            keyword = self.keyword.query(query, groups=groups, n=self.candidates)
        if mode == "hybrid":
            fused = convex(dense, keyword, self.dense_weight) if self.fusion == "convex" else rrf(dense, keyword)
        else:
            fused = convex(dense, keyword, 1.0 if mode == "dense" else 0.0)
        return self._passages(fused, dict(dense), dict(keyword), set(groups), k)

    def refresh_keyword_index(self) -> None:
        """Rebuild BM25 from the database when the corpus changed (here or on another replica)."""
        with session(self.engine) as db:
            version = corpus_version(db)
        if version == self.keyword.version:
            return
        with self._rebuild_lock:
            if version == self.keyword.version:
                return
            with session(self.engine) as db:
                rows = db.exec(select(Chunk.id, Chunk.index_text, Chunk.audience).order_by(Chunk.id)).all()
            self.keyword.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], version)

    def _passages(self, fused: list[tuple[str, float]], dense: dict, keyword: dict, groups: set[str], k: int) -> list[Passage]:
        wanted = [cid for cid, _ in fused[: max(k * 3, k + 10)]]
        if not wanted:
            return []
        with session(self.engine) as db:
            rows = db.exec(select(Chunk, Source).join(Source, Source.id == Chunk.source_id).where(Chunk.id.in_(wanted))).all()
        by_id = {chunk.id: (chunk, source) for chunk, source in rows}
        passages: list[Passage] = []
        for cid, score in fused:
            if cid not in by_id:
                continue  # an orphan vector, or removed since: the database decides
            chunk, source = by_id[cid]
            if not groups.intersection(a.lower() for a in chunk.audience):
                continue
            passages.append(Passage(
                chunk_id=cid, source_id=source.id, source_key=source.key, title=source.title, doc_type=source.doc_type,
                text=chunk.text, locator=chunk.locator, where=describe_locator(chunk.locator), link=source.link,
                updated_at=source.updated_at, audience=tuple(chunk.audience), score=score,
                dense=dense.get(cid), keyword=keyword.get(cid),
            ))
            if len(passages) == k:
                break
        return passages
