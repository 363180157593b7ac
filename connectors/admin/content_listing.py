"""The sources as L&D browse them: search, filters, sorting and pages done by the database, so the list stays fast
with thousands of sources; and one source with its chunks and where each sits in the original.

Audience and competency tags are JSON arrays (on SQLite and PostgreSQL alike); a filter matches the quoted tag in
the array's text, which is exact because tags are restricted to `[a-z0-9_.-]` (knowledge/metadata.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, cast, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.store.db import session
from coach.store.models import as_utc
from knowledge.documents import describe_locator
from knowledge.models import EVERYONE, Chunk, Source

SORTS = {"title": Source.title, "type": Source.doc_type, "updated": Source.updated_at, "chunks": Source.chunk_count,
         "owner": Source.owner}
_LISTED = (Source.id, Source.key, Source.title, Source.doc_type, Source.audience, Source.competencies,
           Source.chunk_count, Source.updated_at, Source.owner, Source.size_bytes)


@dataclass(frozen=True)
class SourceQuery:
    """What the list shows: `q` searches title and key (path); the rest filter exactly; `sort` is a SORTS key."""

    q: str = ""
    doc_type: str = ""
    audience: str = ""
    competency: str = ""
    sort: str = "updated"
    descending: bool = True
    offset: int = 0
    limit: int | None = None


@dataclass
class SourcePage:
    rows: list[dict]
    total: int
    query: SourceQuery
    facets: dict[str, list[str]] = field(default_factory=dict)


def _tagged(column, tag: str):
    quoted = '"' + tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    return cast(column, String).like(f"%{quoted}%", escape="\\")


def list_sources(engine: Engine, query: SourceQuery) -> SourcePage:
    conditions = []
    if query.q.strip():
        needle = query.q.strip().lower()
        conditions.append(func.lower(Source.title).contains(needle, autoescape=True)
                          | func.lower(Source.key).contains(needle, autoescape=True))
    if query.doc_type:
        conditions.append(Source.doc_type == query.doc_type)
    if query.audience:
        conditions.append(_tagged(Source.audience, query.audience))
    if query.competency:
        conditions.append(_tagged(Source.competencies, query.competency))
    column = SORTS.get(query.sort, Source.updated_at)
    order = [column.desc() if query.descending else column.asc(), Source.id.asc()]
    with session(engine) as db:
        total = db.exec(select(func.count()).select_from(Source).where(*conditions)).one()
        statement = select(*_LISTED).where(*conditions).order_by(*order).offset(query.offset)
        rows = db.exec(statement.limit(query.limit) if query.limit else statement).all()
    return SourcePage(rows=[_row(*row) for row in rows], total=total, query=query)


def _row(id, key, title, doc_type, audience, competencies, chunks, updated_at, owner, size_bytes) -> dict:
    return {"id": id, "title": title, "type": doc_type, "audience": list(audience or [EVERYONE]),
            "competencies": list(competencies or []), "chunks": chunks, "updated_at": updated_at, "owner": owner,
            "key": key, "size_bytes": size_bytes}


def facets(engine: Engine, framework) -> dict[str, list[str]]:
    """The values the filters offer: types and audiences in use, and the framework's competencies."""
    with session(engine) as db:
        types = sorted(t for t in db.exec(select(Source.doc_type).distinct()).all() if t)
        audiences = {group for groups in db.exec(select(Source.audience)).all() for group in groups or []}
    return {"types": types, "audiences": sorted(audiences | {EVERYONE}),
            "competencies": [c.id for c in framework.competencies]}


def source_json(row: dict) -> dict:
    """One source for the API: exactly what the list promises (id, title, type, audience, competencies, chunks,
    updated_at, owner) and its key."""
    return {**{k: row[k] for k in ("id", "title", "type", "audience", "competencies", "chunks", "owner", "key")},
            "updated_at": as_utc(row["updated_at"]).isoformat()}


@dataclass
class SourceDetail:
    source: Source
    chunks: list[dict]
    total_chunks: int


def source_detail(engine: Engine, source_id: str, *, offset: int = 0, limit: int | None = None) -> SourceDetail | None:
    """A source and its chunks in reading order, each with its locator (page, slide, section, timestamp)."""
    with session(engine) as db:
        source = db.get(Source, source_id)
        if source is None:
            return None
        statement = select(Chunk).where(Chunk.source_id == source_id).order_by(Chunk.ordinal).offset(offset)
        chunks = db.exec(statement.limit(limit) if limit else statement).all()
        total = db.exec(select(func.count()).select_from(Chunk).where(Chunk.source_id == source_id)).one()
    rows = [{"id": c.id, "ordinal": c.ordinal, "where": describe_locator(c.locator), "locator": c.locator,
             "heading": c.heading, "text": c.text, "audience": c.audience} for c in chunks]
    return SourceDetail(source=source, chunks=rows, total_chunks=total)


def detail_json(detail: SourceDetail) -> dict:
    """A source for the API: its metadata, `chunk_count`, and `chunks` (each with id, ordinal, locator, `where` as
    a citation shows it, heading and text)."""
    s = detail.source
    return {"id": s.id, "key": s.key, "title": s.title, "type": s.doc_type, "audience": list(s.audience),
            "competencies": list(s.competencies), "owner": s.owner, "link": s.link, "size_bytes": s.size_bytes,
            "chunk_count": s.chunk_count, "created_at": as_utc(s.created_at).isoformat(),
            "updated_at": as_utc(s.updated_at).isoformat(), "details": s.details,
            "chunks": [{k: c[k] for k in ("id", "ordinal", "where", "locator", "heading", "text")}
                       for c in detail.chunks]}
