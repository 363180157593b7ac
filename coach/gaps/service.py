"""Content gaps as the rest of the product sees them: the report (CLI, web admin, `GET /api/admin/gaps`) and the
hook every ingestion ends with. Built once in coach/bootstrap.py with the container's own embedding model and
answerer: no second model is loaded."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine

from coach.answering import Answerer
from coach.gaps import clustering, closing, report
from coach.gaps.report import Cluster
from kernel.store import utcnow

log = logging.getLogger(__name__)


class Gaps:
    def __init__(self, *, engine: Engine, embedder, answerer: Answerer, chunk_vectors: closing.ChunkVectors,
                 similarity: float = 0.5, plausible: float = closing.PLAUSIBLE, notify_days: int = 60,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """`embedder`: the knowledge base's (`name`, `embed_passages`); `chunk_vectors`: KnowledgeBase.chunk_vectors;
        `similarity` and `plausible`: the embedding model's cosine thresholds (coach/thresholds.py)."""
        self.engine, self.embedder, self.answerer, self.chunk_vectors = engine, embedder, answerer, chunk_vectors
        self.similarity, self.plausible, self.notify_days, self.clock = similarity, plausible, notify_days, clock
        self._lock = threading.Lock()  # one refresh at a time in this process (another process is harmless)

    def refresh(self) -> dict:
        """Embed and cluster the questions declined since the last call (cheap when there are none)."""
        with self._lock:
            return clustering.refresh(self.engine, embed=self.embedder.embed_passages, model=self.embedder.name,
                                      threshold=self.similarity)

    def clusters(self, *, status: str = "open", period_days: int = 14, weeks: int = 8, examples: int = 3,
                 min_people: int = 1) -> list[Cluster]:
        """Clusters sorted by demand (see report.clusters); status open, closed or all."""
        self.refresh()
        return report.clusters(self.engine, now=self.clock(), status=status, period_days=period_days, weeks=weeks,
                               examples=examples, min_people=min_people)

    def cluster(self, cluster_id: str, *, period_days: int = 14, weeks: int = 8, examples: int = 3) -> Cluster | None:
        found = report.clusters(self.engine, now=self.clock(), status="all", period_days=period_days, weeks=weeks,
                                examples=examples, cluster_id=cluster_id)
        return found[0] if found else None

    def questions(self, cluster_id: str, limit: int = 10) -> list[str]:
        return report.questions(self.engine, cluster_id, limit)

    def on_ingested(self, outcomes) -> dict[str, int]:
        """The ingestion hook (`Ingestor.listeners`): re-ask the open questions the added or updated sources may
        answer; close the answered ones and owe their askers the answer (sent by the worker)."""
        sources = {o.source_id for o in outcomes if o.status in ("added", "updated") and o.source_id}
        if not sources:
            return {"rechecked": 0, "closed": 0, "owed": 0}
        self.refresh()
        result = closing.recheck(self.engine, answerer=self.answerer, chunk_vectors=self.chunk_vectors,
                                 source_ids=sources, now=self.clock(), notify_days=self.notify_days,
                                 plausible=self.plausible)
        if result["closed"]:
            log.info("new content answered %(closed)d open question(s); %(owed)d asker(s) will be told", result)
        return result
