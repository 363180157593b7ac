"""The Content area's JSON for scripts (content_api.py): a listed source and one source with its chunks, as the API
promises them. The listing itself is the knowledge base's (knowledge/listing.py, through `KnowledgeBase`)."""

from __future__ import annotations

from kernel.store import as_utc
from knowledge.listing import SourceDetail, SourceRow


def source_json(row: SourceRow) -> dict:
    """One source for the API: exactly what the list promises (id, title, type, audience, competencies, chunks,
    updated_at, owner) and its key."""
    return {"id": row.id, "title": row.title, "type": row.type, "audience": row.audience,
            "competencies": row.competencies, "chunks": row.chunks, "owner": row.owner, "key": row.key,
            "updated_at": as_utc(row.updated_at).isoformat()}


def detail_json(detail: SourceDetail) -> dict:
    """A source for the API: its metadata, `chunk_count`, and `chunks` (each with id, ordinal, locator, `where` as
    a citation shows it, heading and text)."""
    s = detail.source
    return {"id": s.id, "key": s.key, "title": s.title, "type": s.doc_type, "audience": list(s.audience),
            "competencies": list(s.competencies), "owner": s.owner, "link": s.link, "size_bytes": s.size_bytes,
            "chunk_count": s.chunk_count, "created_at": as_utc(s.created_at).isoformat(),
            "updated_at": as_utc(s.updated_at).isoformat(), "details": s.details,
            "chunks": [{"id": c.id, "ordinal": c.ordinal, "where": c.where, "locator": c.locator,
                        "heading": c.heading, "text": c.text} for c in detail.chunks]}
