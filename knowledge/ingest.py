"""Ingestion: files in, chunks stored, vectors indexed; incremental, atomic per source, and safe on bad input.

A source is replaced atomically: new vectors are written to Chroma first, then one database transaction swaps the
source's chunk rows, then vectors no longer referenced are deleted. Retrieval only returns chunks the database
holds, so no query ever sees a source half old and half new, and a crash leaves at worst orphan vectors that the
next reconcile removes. A refused file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import KnowledgeState, session, utcnow
from knowledge.chunking import Chunker, PreparedChunk, heading_id
from knowledge.documents import DocumentError, ParsedDocument
from knowledge.embeddings import Embedder
from knowledge.loaders import Limits, load_bytes, read_file
from knowledge.metadata import SourceMeta, is_sidecar, read_sidecars
from kernel.language import detect
from knowledge.models import Chunk, Source
from knowledge.vector_index import VectorIndex

Progress = Callable[[str], None]  # called with a short note (a file name, "chunks: 256/1000") as work advances
log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    path: str
    status: str  # added | updated | unchanged | failed
    reason: str = ""
    source_id: str = ""
    chunks: int = 0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("added", "updated", "unchanged", "failed")}


@dataclass
class DocumentItem:
    """A parsed document ready to store; `key` identifies the source across runs (a resolved path, a dataset id)."""

    key: str
    document: ParsedDocument
    meta: SourceMeta
    content_hash: str
    size_bytes: int = 0
    shown: str = ""

    def __post_init__(self) -> None:
        self.shown = self.shown or self.key


def source_id_for(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths (recursively), without hidden files and sidecars, in a stable order."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not is_sidecar(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return list(dict.fromkeys(p.resolve() if p.exists() else p for p in found))


class Ingestor:
    def __init__(self, *, engine: Engine, vectors: VectorIndex, headings: VectorIndex, embedder: Embedder,
                 chunker: Chunker, limits: Limits) -> None:
        self.engine, self.vectors, self.headings, self.embedder = engine, vectors, headings, embedder
        self.chunker, self.limits = chunker, limits
        # told what was added or updated once each ingestion finishes (e.g. re-asking open content gaps); every way
        # in (`coach ingest`, the admin upload, samples) ends in ingest_documents, so none is missed
        self.listeners: list[Callable[[list[FileOutcome]], None]] = []
        self._batch = threading.local()

    @contextmanager
    def batch(self):
        """Listeners hear once about everything ingested inside (a folder of files), not once per file."""
        depth = getattr(self._batch, "depth", 0)
        if depth == 0:
            self._batch.changed = []
        self._batch.depth = depth + 1
        try:
            yield
        finally:
            self._batch.depth = depth
            if depth == 0:
                self._announce(self._batch.changed)

    def _changed(self, outcomes: list[FileOutcome]) -> None:
        changed = [o for o in outcomes if o.status in ("added", "updated")]
        if getattr(self._batch, "depth", 0):
            self._batch.changed += changed
        else:
            self._announce(changed)

    def _announce(self, changed: list[FileOutcome]) -> None:
        for listener in self.listeners if changed else []:
            try:
                listener(changed)
            except Exception:  # the content is in; a listener's failure is logged, not the ingestion's
                log.exception("a listener failed after ingesting %d sources", len(changed))

    # ---- files -------------------------------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[Path], defaults: SourceMeta = SourceMeta(), progress: Progress | None = None) -> IngestReport:
        report = IngestReport()
        with self.batch():
            for path in discover(paths):
                report.outcomes.append(self.ingest_file(path, defaults))
                if progress:
                    progress(path.name)
        return report

    def ingest_file(self, path: Path, defaults: SourceMeta = SourceMeta(), *, key: str | None = None) -> FileOutcome:
        """`key`: the source this file is (default its path); an upload sits in a temporary folder, so the web admin
        names it by the upload instead, and a later upload of the same name updates the same source."""
        key = key or str(path)
        try:
            meta = read_sidecars(path).over(defaults)
            data = read_file(path, self.limits)
            content_hash = hashlib.sha256(data).hexdigest()
            unchanged = self._unchanged(key, content_hash, meta)
            if unchanged:
                return FileOutcome(str(path), "unchanged", source_id=unchanged.id, chunks=unchanged.chunk_count)
            document = load_bytes(path.name, data, self.limits)
            return self.ingest_document(DocumentItem(key=key, document=document, meta=meta, content_hash=content_hash,
                                                     size_bytes=len(data), shown=str(path)))
        except DocumentError as exc:
            return FileOutcome(str(path), "failed", str(exc))

    # ---- documents ---------------------------------------------------------------------------------------------
    def ingest_document(self, item: DocumentItem) -> FileOutcome:
        return self.ingest_documents([item])[0]

    def ingest_documents(self, items: list[DocumentItem]) -> list[FileOutcome]:
        """Store parsed documents; each source is swapped whole, in one transaction for the batch."""
        outcomes: dict[int, FileOutcome] = {}
        work: list[tuple[int, DocumentItem, Source | None, str, list[PreparedChunk]]] = []
        with session(self.engine) as db:
            for n, item in enumerate(items):
                existing = db.get(Source, source_id_for(item.key))
                fingerprint = _fingerprint(item.content_hash, item.meta, self.chunker)
                if existing and existing.content_hash == fingerprint:
                    outcomes[n] = FileOutcome(item.shown, "unchanged", source_id=existing.id, chunks=existing.chunk_count)
                    continue
                title = item.meta.title or item.document.title
                prepared = self.chunker.chunk(item.key, ParsedDocument(title, item.document.doc_type, item.document.sections))
                if not prepared:
                    outcomes[n] = FileOutcome(item.shown, "failed", "no text found to index; is the file empty or a scanned image?")
                    continue
                work.append((n, item, existing, fingerprint, prepared))
            old = _vector_entries(db, [source_id_for(w[1].key) for w in work])
        if not work:
            return [outcomes[n] for n in range(len(items))]

        new = _Entries()
        for _, item, _, _, prepared in work:
            for c in prepared:
                new.add(c.id, c.index_text, c.heading, source_id_for(item.key), item.meta.audience_or_everyone)
        self._upsert(self.vectors, new.chunks)
        self._upsert(self.headings, new.headings)
        now = utcnow()
        with session(self.engine) as db:
            for n, item, existing, fingerprint, prepared in work:
                source_id, audience = source_id_for(item.key), item.meta.audience_or_everyone
                source = db.get(Source, source_id) or Source(id=source_id, key=item.key, title="", doc_type="",
                                                            content_hash=fingerprint, created_at=now)
                source.title, source.doc_type = item.meta.title or item.document.title, item.document.doc_type
                source.content_hash, source.owner, source.audience = fingerprint, item.meta.owner or "", audience
                source.competencies, source.link = list(item.meta.competencies), item.meta.link or ""
                source.size_bytes, source.chunk_count, source.updated_at = item.size_bytes, len(prepared), now
                source.details = {k: v for k, v in item.document.metadata.items() if _jsonable(v)}
                db.add(source)
                db.flush()
                db.exec(delete(Chunk).where(Chunk.source_id == source_id))
                db.add_all(
                    Chunk(id=c.id, source_id=source_id, ordinal=c.ordinal, text=c.text, index_text=c.index_text,
                          locator=c.locator, heading=c.heading, audience=audience, language=detect(c.text))
                    for c in prepared
                )
                outcomes[n] = FileOutcome(item.shown, "updated" if existing else "added", source_id=source_id, chunks=len(prepared))
            bump_corpus_version(db)
            db.commit()
        self.vectors.delete(old.chunks.keys() - new.chunks.keys())
        self.headings.delete(old.headings.keys() - new.headings.keys())
        done = [outcomes[n] for n in range(len(items))]
        self._changed(done)
        return done

    def _unchanged(self, key: str, content_hash: str, meta: SourceMeta) -> Source | None:
        with session(self.engine) as db:
            existing = db.get(Source, source_id_for(key))
        fingerprint = _fingerprint(content_hash, meta, self.chunker)
        return existing if existing and existing.content_hash == fingerprint else None

    def _upsert(self, index: VectorIndex, entries: dict[str, "_Entry"], progress: Progress | None = None) -> None:
        """Write every entry's vector, embedding only texts the index does not hold yet (unchanged chunks keep theirs)."""
        ids = list(entries)
        for start in range(0, len(ids), 256):
            batch = ids[start : start + 256]
            vectors = index.existing_embeddings(batch)
            missing = [i for i in batch if i not in vectors]
            if missing:
                vectors.update(zip(missing, self.embedder.embed_passages([entries[i].text for i in missing])))
            index.upsert(batch, np.stack([vectors[i] for i in batch]), [entries[i].source_id for i in batch],
                         [entries[i].audience for i in batch])
            if progress:
                progress(f"{index.kind}: {min(start + 256, len(ids))}/{len(ids)}")

    # ---- removal and repair ------------------------------------------------------------------------------------
    def remove(self, keys_or_ids: Iterable[str]) -> list[Source]:
        removed: list[Source] = []
        with session(self.engine) as db:
            for value in keys_or_ids:
                candidates = [value, str(Path(value).resolve())]
                source = db.get(Source, value) or db.exec(select(Source).where(Source.key.in_(candidates))).first()
                if source is None:
                    continue
                old = _vector_entries(db, [source.id])
                db.exec(delete(Chunk).where(Chunk.source_id == source.id))
                db.delete(source)
                bump_corpus_version(db)
                db.commit()
                self.vectors.delete(old.chunks)
                self.headings.delete(old.headings)
                removed.append(source)
        return removed

    def reconcile(self, progress: Progress | None = None) -> dict[str, int]:
        """Make the vector indexes match the database: embed what is missing (e.g. after a model change), drop orphans."""
        with session(self.engine) as db:
            wanted = _vector_entries(db)
        embedded = orphans_removed = 0
        for index, entries in ((self.vectors, wanted.chunks), (self.headings, wanted.headings)):
            indexed = index.all_ids()
            missing = {i: e for i, e in entries.items() if i not in indexed}
            orphans = indexed - entries.keys()
            self._upsert(index, missing, progress)
            index.delete(orphans)
            if index is self.vectors:
                embedded, orphans_removed = len(missing), len(orphans)
        return {"embedded": embedded, "orphans_removed": orphans_removed}


@dataclass(frozen=True)
class _Entry:
    text: str
    source_id: str
    audience: list[str]


@dataclass
class _Entries:
    """What the vector indexes should hold for some sources: one entry per chunk, one per distinct heading."""

    chunks: dict[str, _Entry] = field(default_factory=dict)
    headings: dict[str, _Entry] = field(default_factory=dict)

    def add(self, chunk_id: str, index_text: str, heading: str, source_id: str, audience: list[str]) -> None:
        self.chunks[chunk_id] = _Entry(index_text, source_id, audience)
        if heading:
            self.headings[heading_id(source_id, heading)] = _Entry(heading, source_id, audience)


def _vector_entries(db, source_ids: list[str] | None = None) -> _Entries:
    query = select(Chunk.id, Chunk.index_text, Chunk.heading, Chunk.source_id, Chunk.audience)  # as _Entries.add
    if source_ids is not None:
        query = query.where(Chunk.source_id.in_(source_ids))
    entries = _Entries()
    for row in db.exec(query).all():
        entries.add(*row)
    return entries


def bump_corpus_version(db) -> None:
    state = db.get(KnowledgeState, "corpus_version") or KnowledgeState(key="corpus_version")
    state.value = uuid.uuid4().hex
    db.add(state)


def corpus_version(db) -> str:
    state = db.get(KnowledgeState, "corpus_version")
    return state.value if state else ""


def count_sources(db) -> int:
    return db.exec(select(func.count()).select_from(Source)).one()


def _fingerprint(content_hash: str, meta: SourceMeta, chunker: Chunker) -> str:
    """Content, metadata and chunking settings together: a change to any of them re-ingests the source."""
    described = json.dumps([content_hash, meta.__dict__, chunker.signature], sort_keys=True, default=list)
    return hashlib.sha256(described.encode()).hexdigest()


def _jsonable(value) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False
