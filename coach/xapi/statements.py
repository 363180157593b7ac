"""xAPI 1.0.3 statements as typed models: what the coach builds is checked here (IRIs, UUIDs, a score in range,
an actor with exactly one identifier) before it reaches the outbox, so an LRS never rejects a batch for one bad
statement. Only the parts of the spec the coach uses are modelled; `as_json` is what is posted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LanguageMap = dict[str, str]


def _iri(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.scheme in ("mailto", "urn", "tag")) or " " in value:
        raise ValueError(f"not an absolute IRI: {value!r}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Account(_Model):
    homePage: str
    name: str

    _home = field_validator("homePage")(lambda cls, v: _iri(v))


class Agent(_Model):
    objectType: Literal["Agent"] = "Agent"
    name: str | None = None
    account: Account | None = None
    mbox: str | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> "Agent":
        if (self.account is None) == (self.mbox is None):
            raise ValueError("an agent has exactly one identifier: an account or an mbox")
        if self.mbox is not None and not (self.mbox.startswith("mailto:") and "@" in self.mbox):
            raise ValueError("an mbox is a mailto: IRI")
        return self


class Verb(_Model):
    id: str
    display: LanguageMap

    _id = field_validator("id")(lambda cls, v: _iri(v))


class Definition(_Model):
    type: str
    name: LanguageMap | None = None
    description: LanguageMap | None = None
    extensions: dict | None = None
    interactionType: str | None = None
    correctResponsesPattern: list[str] | None = None
    choices: list[dict] | None = None

    _type = field_validator("type")(lambda cls, v: _iri(v))


class Activity(_Model):
    objectType: Literal["Activity"] = "Activity"
    id: str
    definition: Definition | None = None

    _id = field_validator("id")(lambda cls, v: _iri(v))


class StatementRef(_Model):
    objectType: Literal["StatementRef"] = "StatementRef"
    id: str

    _id = field_validator("id")(lambda cls, v: str(uuid.UUID(v)))


class Score(_Model):
    scaled: float | None = Field(default=None, ge=-1, le=1)
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _in_range(self) -> "Score":
        if self.raw is not None and ((self.min is not None and self.raw < self.min)
                                     or (self.max is not None and self.raw > self.max)):
            raise ValueError("raw score outside min..max")
        return self


class Result(_Model):
    success: bool | None = None
    completion: bool | None = None
    score: Score | None = None
    response: str | None = None
    duration: str | None = None
    extensions: dict | None = None


class ContextActivities(_Model):
    parent: list[Activity] | None = None
    grouping: list[Activity] | None = None
    category: list[Activity] | None = None
    other: list[Activity] | None = None


class Context(_Model):
    registration: str | None = None
    contextActivities: ContextActivities | None = None
    platform: str | None = None
    language: str | None = None
    statement: StatementRef | None = None
    extensions: dict | None = None

    _registration = field_validator("registration")(lambda cls, v: v if v is None else str(uuid.UUID(v)))


class Statement(_Model):
    id: str
    actor: Agent
    verb: Verb
    object: Activity | StatementRef
    result: Result | None = None
    context: Context | None = None
    timestamp: str
    version: Literal["1.0.3"] = "1.0.3"

    _id = field_validator("id")(lambda cls, v: str(uuid.UUID(v)))

    @field_validator("timestamp")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
            raise ValueError("a timestamp has a time zone")
        return value

    def as_json(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, as LRSs store it (a resend compares equal)."""
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
