"""The sources as L&D browse them: search, filters, sorting and pages done by the database, so the list stays fast
with thousands of sources; and one source with its chunks and where each sits in the original. The knowledge base
owns these tables, so the queries live here and the rest of the product reaches them through `KnowledgeBase`.

Audience and competency tags are JSON arrays (on SQLite and PostgreSQL alike); a filter matches the quoted tag in
the array's text, which is exact because tags are restricted to `[a-z0-9_.-]` (knowledge/metadata.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import unit_of_work
from knowledge.documents import describe_locator
from knowledge.models import EVERYONE, Chunk, Source, SourceBase

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


@dataclass(frozen=True)
class SourceRow:
    """One line of the list: only the columns it shows (never the chunks' text)."""

    id: str
    key: str
    title: str
    type: str
    audience: list[str]
    competencies: list[str]
    chunks: int
    updated_at: datetime
    owner: str
    size_bytes: int


@dataclass
class SourcePage:
    rows: list[SourceRow]
    total: int
    query: SourceQuery


@dataclass(frozen=True)
class Facets:
    """The values in use that the list's filters offer (every audience includes `everyone`)."""

    types: list[str]
    audiences: list[str]


class SourceInFull(SourceBase):
    """A source with everything its page shows (SourcePublic plus when it was added and its loader's details)."""

    id: str
    created_at: datetime
    updated_at: datetime
    details: dict = {}


@dataclass(frozen=True)
class ChunkRow:
    id: str
    ordinal: int
    where: str  # as a citation shows it: "p. 3", "slide 2", "Booking"
    locator: dict
    heading: str
    text: str
    audience: list[str]


@dataclass
class SourceDetail:
    source: SourceInFull
    chunks: list[ChunkRow]
    total_chunks: int


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
    with unit_of_work(engine) as db:
        total = db.exec(select(func.count()).select_from(Source).where(*conditions)).one()
        statement = select(*_LISTED).where(*conditions).order_by(*order).offset(query.offset)
        rows = db.exec(statement.limit(query.limit) if query.limit else statement).all()
    return SourcePage(rows=[_row(*row) for row in rows], total=total, query=query)


def _row(id, key, title, doc_type, audience, competencies, chunks, updated_at, owner, size_bytes) -> SourceRow:
    return SourceRow(id=id, key=key, title=title, type=doc_type, audience=list(audience or [EVERYONE]),
                     competencies=list(competencies or []), chunks=chunks, updated_at=updated_at, owner=owner,
                     size_bytes=size_bytes)


def facets(engine: Engine) -> Facets:
    with unit_of_work(engine) as db:
        types = sorted(t for t in db.exec(select(Source.doc_type).distinct()).all() if t)
        audiences = {group for groups in db.exec(select(Source.audience)).all() for group in groups or []}
    return Facets(types=types, audiences=sorted(audiences | {EVERYONE}))


def count(engine: Engine) -> int:
    with unit_of_work(engine) as db:
        return db.exec(select(func.count()).select_from(Source)).one()


def source_detail(engine: Engine, source_id: str, *, offset: int = 0, limit: int | None = None) -> SourceDetail | None:
    """A source and its chunks in reading order (a page of them), each with its locator; None for no such source."""
    with unit_of_work(engine) as db:
        source = db.get(Source, source_id)
        if source is None:
            return None
        statement = select(Chunk).where(Chunk.source_id == source_id).order_by(Chunk.ordinal).offset(offset)
        chunks = db.exec(statement.limit(limit) if limit else statement).all()
        total = db.exec(select(func.count()).select_from(Chunk).where(Chunk.source_id == source_id)).one()
        shown = SourceInFull.model_validate(source, from_attributes=True)
    rows = [ChunkRow(id=c.id, ordinal=c.ordinal, where=describe_locator(c.locator), locator=c.locator,
                     heading=c.heading, text=c.text, audience=list(c.audience)) for c in chunks]
    return SourceDetail(source=shown, chunks=rows, total_chunks=total)
