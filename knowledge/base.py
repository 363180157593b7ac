"""The knowledge base as the rest of the product sees it: ingest, remove, list, search."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.ports import Passage
from coach.store.db import session
from knowledge.ingest import Ingestor, IngestReport, Progress, count_sources
from knowledge.metadata import SourceMeta
from knowledge.models import Chunk, KnowledgeState, Source, SourcePublic
from knowledge.retrieval import HybridRetriever

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "content"


class KnowledgeBase:
    def __init__(self, *, engine: Engine, ingestor: Ingestor, retriever: HybridRetriever) -> None:
        self.engine, self.ingestor, self.retriever = engine, ingestor, retriever

    def ingest(self, paths: Iterable[Path], defaults: SourceMeta = SourceMeta(), progress: Progress | None = None) -> IngestReport:
        return self.ingestor.ingest_paths(paths, defaults, progress)

    def remove(self, keys_or_ids: Iterable[str]) -> list[Source]:
        return self.ingestor.remove(keys_or_ids)

    def sources(self) -> list[SourcePublic]:
        with session(self.engine) as db:
            rows = db.exec(select(Source).order_by(Source.title)).all()
        return [SourcePublic.model_validate(row, from_attributes=True) for row in rows]

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

    def search(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
               mode: str = "hybrid") -> list[Passage]:
        return self.retriever.search(query, context=context, groups=groups, k=k, mode=mode)

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

    def load_samples(self, progress: Progress | None = None) -> IngestReport:
        report = self.ingest([SAMPLES], progress=progress) if SAMPLES.is_dir() else IngestReport()
        with session(self.engine) as db:
            db.add(KnowledgeState(key="samples_loaded", value="1"))
            db.commit()
        return report
