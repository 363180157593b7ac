"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, fused, filtered by audience, from the database.

The audience filter is applied three times: inside the Chroma query, inside the BM25 scores, and against the
database rows that the results are read from (the source of truth). A learner never receives a chunk whose audience
they are not in, and never a chunk the database no longer holds.
"""

from __future__ import annotations

import threading
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.ports import Passage, Retrieval
from kernel.store import session
from knowledge.chunking import heading_id
from knowledge.documents import describe_locator
from knowledge.embeddings import Embedder
from knowledge.fusion import convex, rrf
from knowledge.ingest import corpus_version
from knowledge.keyword_index import KeywordIndex
from knowledge.models import EVERYONE, Chunk, Source
from knowledge.vector_index import VectorIndex

MODES = ("hybrid", "dense", "keyword")


class HybridRetriever:
    """Dense scores take the better of the chunk's own vector and its title + heading path's vector (a field of its
    own: a question phrased like an FAQ title or a section heading finds that section), then fuse with BM25.

    A question asked in a conversation comes with `context`, the earlier turns worth searching with: they join the
    keyword query, and the dense query vector leans towards the newest question (last turn counts 1.5x).
    """

    def __init__(self, *, engine: Engine, vectors: VectorIndex, headings: VectorIndex, keyword: KeywordIndex,
                 embedder: Embedder, candidates: int = 40, dense_weight: float = 0.8, fusion: str = "convex") -> None:
        self.engine, self.vectors, self.headings, self.keyword, self.embedder = engine, vectors, headings, keyword, embedder
        self.candidates, self.dense_weight, self.fusion = candidates, dense_weight, fusion
        self._heading_of: dict[str, str] = {}
        self._rebuild_lock = threading.Lock()

    def search(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
               mode: str = "hybrid") -> list[Passage]:
        return self.retrieve(query, context=context, groups=groups, k=k, mode=mode).passages

    def retrieve(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
                 mode: str = "hybrid") -> Retrieval:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        query = query.strip()
        if not query or k <= 0:
            return Retrieval([])
        context = [c.strip() for c in context if c and c.strip()]
        text = " ".join([query, *context])
        groups = sorted({g.lower() for g in groups} | {EVERYONE})
        self.refresh()
        dense = keyword = []
        vector = None
        if mode in ("hybrid", "dense"):
            vector = self._query_vector(query, text)
            dense = self._dense(vector, groups)
        if mode in ("hybrid", "keyword"):
            keyword = self.keyword.query(text, groups=groups, n=self.candidates)
        if mode == "hybrid":
            fused = convex(dense, keyword, self.dense_weight) if self.fusion == "convex" else rrf(dense, keyword)
        else:
            fused = convex(dense, keyword, 1.0 if mode == "dense" else 0.0)
        return Retrieval(self._passages(fused, dict(dense), dict(keyword), set(groups), k), vector)

    def mentions(self, words: Sequence[str], *, groups: Iterable[str] = ()) -> set[str]:
        """Which of `words` the content these groups may see mentions anywhere."""
        self.refresh()
        return self.keyword.present(words, groups=sorted({g.lower() for g in groups} | {EVERYONE}))

    def _query_vector(self, query: str, text: str) -> np.ndarray:
        vector = self.embedder.embed_query(text)
        if text != query:
            vector = vector + 0.5 * self.embedder.embed_query(query)
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector

    def _dense(self, vector: np.ndarray, groups: list[str]) -> list[tuple[str, float]]:
        dense = self.vectors.query(vector, groups=groups, n=self.candidates)
        if not dense:
            return []
        heading_scores = dict(self.headings.query(vector, groups=groups, n=self.candidates))
        rescored = [(cid, max(score, heading_scores.get(self._heading_of.get(cid, ""), -1.0))) for cid, score in dense]
        return sorted(rescored, key=lambda item: -item[1])

    def refresh(self) -> None:
        """Rebuild BM25 and the chunk -> heading map from the database when the corpus changed (here or on another
        replica); a cheap version check otherwise."""
        with session(self.engine) as db:
            version = corpus_version(db)
        if version == self.keyword.version:
            return
        with self._rebuild_lock:
            if version == self.keyword.version:
                return
            with session(self.engine) as db:
                rows = db.exec(select(Chunk.id, Chunk.index_text, Chunk.audience, Chunk.source_id, Chunk.heading,
                                      Chunk.language).order_by(Chunk.id)).all()
            self._heading_of = {r[0]: heading_id(r[3], r[4]) for r in rows if r[4]}
            self.keyword.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], version,
                               [r[5] for r in rows])

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
                dense=dense.get(cid), keyword=keyword.get(cid), competencies=tuple(source.competencies),
                language=chunk.language,
            ))
            if len(passages) == k:
                break
        return passages
