"""The core's tables. Knowledge-base tables live in `knowledge/models.py` on the same metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class LearnerBase(SQLModel):
    display_name: str = ""
    # audience groups this learner belongs to; everyone is implied
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    role: str = ""
    team: str = ""
    timezone: str = "Europe/Amsterdam"
    language: str = "en"
    # e.g. {"lesson_minutes": 5, "time_of_day": "morning"}
    preferences: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    paused: bool = False


class Learner(LearnerBase, table=True):
    id: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class LearnerPublic(LearnerBase):
    id: str


class NeedBase(SQLModel):
    """A learner's question as the basis of personalization: redacted, tagged, answered or not, rated later."""

    learner_id: str = Field(index=True, max_length=200)
    channel: str = Field(max_length=20)  # dm | channel | thread | web | cli
    platform: str = Field(max_length=20)  # web | cli | slack | teams
    question: str = Field(sa_column=Column(Text, nullable=False))  # personal data redacted
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # competency ids
    answered: bool
    confidence: float = 0.0  # the abstention model's probability that the content answers it
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # cited source ids
    feedback: str | None = Field(default=None, max_length=20)  # helpful | not_helpful
    feedback_note: str | None = Field(default=None, sa_column=Column(Text))  # what was missing (redacted)


class Need(NeedBase, table=True):
    id: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    feedback_at: datetime | None = None


class NeedPublic(NeedBase):
    id: str
    created_at: datetime


class ModelExchange(SQLModel, table=True):
    """One call to a language model, kept for evaluation: which prompt, which passages, what it cost, how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    template: str = Field(max_length=100)
    template_version: str = Field(max_length=20)
    model: str = Field(max_length=200)
    chunk_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    outcome: str = Field(max_length=20)  # answered | declined | malformed | unavailable | error


class SeenEvent(SQLModel, table=True):
    """A platform event already handled (a Slack event, a Teams activity) or a thread the coach takes part in; the
    primary key makes "first time?" one atomic insert that holds across processes and replicas."""

    key: str = Field(primary_key=True, max_length=250)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class ChatAddress(SQLModel, table=True):
    """Where the coach can reach someone later without being asked (nudges, lessons, private answers): a platform's
    conversation reference, kept as the connector gave it. Personal chats, and members met in a channel (from whose
    reference a personal chat can be opened), belong to a learner; channels to no one."""

    key: str = Field(primary_key=True, max_length=250)  # <platform>:<kind>:<learner id or channel id>
    platform: str = Field(max_length=20)
    kind: str = Field(max_length=20)  # personal | member | channel
    learner_id: str = Field(default="", index=True, max_length=200)
    reference: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
