"""The knowledge base as the rest of the product sees it: ingest, remove, list, search."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.errors import ConfigError
from kernel.ports import Passage, Retrieval
from kernel.store import KnowledgeState, session
from examples import CONTENT as SAMPLES
from knowledge import listing
from knowledge.ingest import (FileOutcome, Ingestor, IngestReport, Progress, _vector_entries, bump_corpus_version,
                              count_sources)
from knowledge.listing import Facets, SourceDetail, SourcePage, SourceQuery
from knowledge.metadata import SourceMeta
from knowledge.models import EVERYONE, Chunk, Source, SourcePublic
from knowledge.retrieval import HybridRetriever



class KnowledgeBase:
    def __init__(self, *, engine: Engine, ingestor: Ingestor, retriever: HybridRetriever) -> None:
        self.engine, self.ingestor, self.retriever = engine, ingestor, retriever

    def ingest(self, paths: Iterable[Path], defaults: SourceMeta = SourceMeta(), progress: Progress | None = None) -> IngestReport:
        return self.ingestor.ingest_paths(paths, defaults, progress)

    def remove(self, keys_or_ids: Iterable[str]) -> list[Source]:
        return self.ingestor.remove(keys_or_ids)

    def ingest_file(self, path: Path, defaults: SourceMeta = SourceMeta(), *, key: str | None = None) -> FileOutcome:
        """One file, as `coach ingest` takes each, stored as the source `key` (an upload's name) instead of its path."""
        return self.ingestor.ingest_file(path, defaults, key=key)

    def retag(self, source_id: str, *, audience: Sequence[str] | None = None, competencies: Sequence[str] | None = None,
              owner: str | None = None) -> SourcePublic | None:
        """New audience, competency tags or owner (None: keep) for a source, without parsing or embedding it again.

        The database (which decides what a learner may read) changes first, then the audience flags of the source's
        vectors. The stored fingerprint is voided, so the next ingestion of the file applies the metadata it comes
        with instead of being skipped as unchanged. A wider audience may answer open content gaps: listeners hear."""
        with session(self.engine) as db:
            source = db.get(Source, source_id)
            if source is None:
                return None
            groups = (list(dict.fromkeys(audience)) or [EVERYONE]) if audience is not None else list(source.audience)
            widened = EVERYONE not in source.audience and bool(set(groups) - set(source.audience))  # more readers
            if audience is not None:
                source.audience = groups
                db.exec(update(Chunk).where(Chunk.source_id == source_id).values(audience=groups))
                bump_corpus_version(db)
            if competencies is not None:
                source.competencies = list(dict.fromkeys(competencies))
            if owner is not None:
                source.owner = owner.strip()
            source.content_hash = f"retagged:{uuid.uuid4().hex}"
            db.add(source)
            db.commit()
            db.refresh(source)
            retagged = SourcePublic.model_validate(source, from_attributes=True)
            entries = _vector_entries(db, [source_id])
        if audience is not None:
            self.ingestor.vectors.set_audience(list(entries.chunks), [groups] * len(entries.chunks))
            self.ingestor.headings.set_audience(list(entries.headings), [groups] * len(entries.headings))
        if widened:
            self.ingestor._changed([FileOutcome(retagged.key, "updated", source_id=source_id,
                                                chunks=retagged.chunk_count)])
        return retagged

    def sources(self) -> list[SourcePublic]:
        with session(self.engine) as db:
            rows = db.exec(select(Source).order_by(Source.title)).all()
        return [SourcePublic.model_validate(row, from_attributes=True) for row in rows]

    def listing(self, query: SourceQuery) -> SourcePage:
        """A page of the sources as L&D browse them (knowledge/listing.py): searched, filtered and sorted."""
        return listing.list_sources(self.engine, query)

    def facets(self) -> Facets:
        """The document types and audiences in use, for the list's filters."""
        return listing.facets(self.engine)

    def count(self) -> int:
        return listing.count(self.engine)

    def vector_count(self) -> int:
        """The chunks in the vector index: asks the vector store (a readiness check)."""
        return self.ingestor.vectors.count()

    def source_detail(self, source_id: str, *, offset: int = 0, limit: int | None = None) -> SourceDetail | None:
        """A source by id with a page of its chunks in reading order; None when there is no such source."""
        return listing.source_detail(self.engine, source_id, offset=offset, limit=limit)

    def find(self, key_or_id: str) -> SourcePublic | None:
        """A source by id, key, path or path ending (`security/phishing.md`)."""
        with session(self.engine) as db:
            source = db.get(Source, key_or_id) or db.exec(select(Source).where(
                Source.key.in_([key_or_id, str(Path(key_or_id).resolve())]))).first()
            if source is None:
                ending = "/" + key_or_id.lstrip("/")
                source = next((s for s in db.exec(select(Source)).all() if s.key.endswith(ending)), None)
            return SourcePublic.model_validate(source, from_attributes=True) if source else None

    def document(self, key_or_id: str) -> tuple[SourcePublic, str] | None:
        """A source and its text (its chunks in order)."""
        source = self.find(key_or_id)
        if source is None:
            return None
        with session(self.engine) as db:
            chunks = db.exec(select(Chunk).where(Chunk.source_id == source.id).order_by(Chunk.ordinal)).all()
        return source, "\n\n".join(c.text for c in chunks)

    def chunk_vectors(self, source_ids: Iterable[str]) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The audience and indexed vector of each chunk of these sources: new content compared with questions
        without embedding it again (see coach/gaps/closing.py)."""
        with session(self.engine) as db:
            rows = db.exec(select(Chunk.id, Chunk.audience).where(Chunk.source_id.in_(sorted(set(source_ids))))
                           .order_by(Chunk.id)).all()
        vectors = self.ingestor.vectors.existing_embeddings([chunk_id for chunk_id, _ in rows])
        kept = [(chunk_id, audience) for chunk_id, audience in rows if chunk_id in vectors]
        if not kept:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [tuple(audience) for _, audience in kept], np.stack([vectors[chunk_id] for chunk_id, _ in kept])

    def search(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
               mode: str = "hybrid") -> list[Passage]:
        return self.retriever.search(query, context=context, groups=groups, k=k, mode=mode)

    def retrieve(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
                 mode: str = "hybrid") -> Retrieval:
        return self.retriever.retrieve(query, context=context, groups=groups, k=k, mode=mode)

    def mentions(self, words: Sequence[str], *, groups: Iterable[str] = ()) -> set[str]:
        return self.retriever.mentions(words, groups=groups)

    def sync_vectors(self, progress: Progress | None = None) -> dict[str, int]:
        """On start: embed what the current model's collection lacks (a model change re-embeds everything)."""
        result = self.ingestor.reconcile(progress)
        self.ingestor.vectors.drop_other_models()
        self.ingestor.headings.drop_other_models()
        return result

    def samples_pending(self) -> bool:
        """True on the very first start only: never again once loaded, even if L&D removes them."""
        with session(self.engine) as db:
            return not (db.get(KnowledgeState, "samples_loaded") or count_sources(db))

    def load_samples(self, progress: Progress | None = None, folder: Path = SAMPLES) -> IngestReport:
        if not folder.is_dir():  # an install that lost its package data: say so, and try again next start
            raise ConfigError(f"The sample content is missing from this install (no folder {folder}): reinstall "
                              "the package, or set COACH_LOAD_SAMPLES=false to start without it.")
        report = self.ingest([folder], progress=progress)
        with session(self.engine) as db:
            db.add(KnowledgeState(key="samples_loaded", value="1"))
            db.commit()
        return report
