"""Knowledge-base tables: the database is the source of truth; Chroma and BM25 are derived from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Text
from sqlmodel import Field, SQLModel

from kernel.ports import EVERYONE
from kernel.store import utcnow


class SourceBase(SQLModel):
    key: str = Field(unique=True, index=True, max_length=1000)  # resolved path, or an upload / dataset id
    title: str
    doc_type: str = Field(max_length=40)
    owner: str = ""
    audience: list[str] = Field(default_factory=lambda: [EVERYONE], sa_column=Column(JSON, nullable=False))
    competencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    link: str = ""  # where a learner can open the original
    content_hash: str = Field(max_length=64)
    size_bytes: int = 0
    chunk_count: int = 0


class Source(SourceBase, table=True):
    id: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SourcePublic(SourceBase):
    id: str
    updated_at: datetime


class Chunk(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    source_id: str = Field(sa_column=Column(String(32), ForeignKey("source.id", ondelete="CASCADE"), index=True, nullable=False))
    ordinal: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    # title + heading path + text: what the embedding and the keyword index see
    index_text: str = Field(sa_column=Column(Text, nullable=False))
    locator: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # title and heading path, embedded once per source as its own field (see knowledge/retrieval.py)
    heading: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    audience: list[str] = Field(default_factory=lambda: [EVERYONE], sa_column=Column(JSON, nullable=False))
    # the language it is written in (ISO 639-1, kernel/language.py): the keyword index stems it in that language
    language: str = Field(default="en", sa_column=Column(String(8), nullable=False, server_default="en"))


