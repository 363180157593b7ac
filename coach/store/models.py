"""The core's tables. Knowledge-base tables live in `knowledge/models.py` on the same metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class LearnerBase(SQLModel):
    display_name: str = ""
    # audience groups this learner belongs to; everyone is implied
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Learner(LearnerBase, table=True):
    id: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class LearnerPublic(LearnerBase):
    id: str
