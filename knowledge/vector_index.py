"""Chroma holds the chunk vectors; the database stays the source of truth for text and audience.

One collection per embedding model (its name carries the model), so a model change builds a new collection from
the database instead of mixing vectors. Audience is stored as one boolean flag per group (`aud:<group>`) because a
flag filter works the same in embedded Chroma and on a Chroma server.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Iterable, Sequence

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings

from knowledge.models import EVERYONE

log = logging.getLogger(__name__)

OVERFETCH = 2  # unfiltered candidates fetched per candidate wanted (see VectorIndex.query)
# a Chroma server that restarts (an upgrade, a crash) is away for a second or two: a query waits this long for it,
# in these steps, before the question gets the apology
RETRY_WAITS_S = (0.25, 0.5, 1.0, 2.0, 2.0)


def _retrying(query):
    """A query (it only reads) asked again while a Chroma server does not answer; embedded Chroma never waits."""
    for wait in (*RETRY_WAITS_S, None):
        try:
            return query()
        except (httpx.TransportError, ConnectionError) as exc:
            if wait is None:
                raise
            log.warning("the Chroma server does not answer (%s); asking again in %g s", exc, wait)
            time.sleep(wait)


def make_client(*, data_dir: Path, host: str = "", port: int = 8000, ssl: bool = False):
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def audience_flag(group: str) -> str:
    return f"aud:{group.strip().lower()}"


def _flags(held: Iterable[str], audience: Iterable[str]) -> dict:
    """Metadata that sets the audience's flags and deletes (None) every other flag the entry holds."""
    return {**dict.fromkeys(held), **{audience_flag(g): True for g in audience}}


def audience_where(groups: Iterable[str]) -> dict:
    flags = sorted({audience_flag(g) for g in [EVERYONE, *groups]})
    clauses = [{flag: True} for flag in flags]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


class VectorIndex:
    """One collection: `chunks` (a vector per chunk) or `headings` (a vector per source title + heading path)."""

    def __init__(self, client, embedder_name: str, kind: str = "chunks") -> None:
        digest = hashlib.sha256(embedder_name.encode()).hexdigest()[:10]
        self.embedder_name, self.kind = embedder_name, kind
        self._client = client
        self.collection = client.get_or_create_collection(
            name=f"{kind}_{digest}",
            metadata={"embedder": embedder_name, "hnsw:space": "cosine", "hnsw:search_ef": 100},
            embedding_function=None,
        )

    def count(self) -> int:
        return self.collection.count()

    def existing_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        ids = list(dict.fromkeys(ids))
        for start in range(0, len(ids), 1000):
            batch = self.collection.get(ids=ids[start : start + 1000], include=["embeddings"])
            found.update((i, np.asarray(v, dtype=np.float32)) for i, v in zip(batch["ids"], batch["embeddings"]))
        return found

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, source_ids: Sequence[str], audiences: Sequence[list[str]]) -> None:
        batch = 1000
        for start in range(0, len(ids), batch):
            end = start + batch
            held = self._audience_flags(ids[start:end])
            metadatas = [
                {"source_id": s, **_flags(held.get(i, ()), aud)}
                for i, s, aud in zip(ids[start:end], source_ids[start:end], audiences[start:end])
            ]
            self.collection.upsert(ids=list(ids[start:end]), embeddings=vectors[start:end], metadatas=metadatas)

    def set_audience(self, ids: Sequence[str], audiences: Sequence[list[str]]) -> None:
        """New audience flags for entries already indexed, keeping their vectors (re-tagging embeds nothing)."""
        for start in range(0, len(ids), 1000):
            held = self._audience_flags(ids[start : start + 1000])
            present = [(i, aud) for i, aud in zip(ids[start : start + 1000], audiences[start : start + 1000]) if i in held]
            if present:
                self.collection.update(ids=[i for i, _ in present],
                                       metadatas=[_flags(held[i], aud) for i, aud in present])

    def _audience_flags(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """The audience flags each indexed entry holds now. Chroma merges metadata on upsert and update, so a flag
        no longer wanted must be deleted explicitly, or a narrowed audience would stay wide in the index."""
        held = self.collection.get(ids=list(ids), include=["metadatas"])
        return {i: [k for k in (m or {}) if k.startswith("aud:")] for i, m in zip(held["ids"], held["metadatas"])}

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[start : start + 1000])

    def all_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def query(self, vector: np.ndarray, *, groups: Iterable[str], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest entries this audience may see.

        A filtered query in local Chroma costs ~130 ms on 50,000 chunks when most of them match, against ~3 ms for
        an unfiltered one; so the index over-fetches unfiltered and filters the flags itself, and asks Chroma to
        filter only when restricted entries crowd out the candidates this learner may see.
        """
        if n <= 0:
            return []
        allowed = {audience_flag(g) for g in [EVERYONE, *groups]}
        fetch = n * OVERFETCH
        result = _retrying(lambda: self.collection.query(query_embeddings=[vector], n_results=fetch,
                                                         include=["distances", "metadatas"]))
        ids, distances, metadatas = result["ids"][0], result["distances"][0], result["metadatas"][0]
        hits = [(i, 1.0 - d) for i, d, m in zip(ids, distances, metadatas) if any(m.get(f) for f in allowed)]
        if len(hits) >= n or len(ids) < fetch:
            return hits[:n]
        result = _retrying(lambda: self.collection.query(
            query_embeddings=[vector], n_results=n, where=audience_where(groups), include=["distances"]))
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0])]

    def drop_other_models(self) -> list[str]:
        """Delete collections of embedding models no longer in use; returns their names."""
        dropped = []
        for collection in self._client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(f"{self.kind}_") and name != self.collection.name:
                self._client.delete_collection(name)
                dropped.append(name)
        return dropped
