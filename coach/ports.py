"""The small ports the core talks to; adapters in knowledge/ and connectors/ implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from coach.messages import Reply


EVERYONE = "everyone"  # the audience every learner is in


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk the learner may see, with where it came from and how it scored."""

    chunk_id: str
    source_id: str
    source_key: str
    title: str
    doc_type: str
    text: str
    locator: dict
    where: str  # "p. 3", "slide 4", "Expenses › Mileage", "1:23"
    link: str
    updated_at: datetime
    audience: tuple[str, ...]
    score: float  # fused score in [0, 1], relative to the other candidates
    dense: float | None  # cosine similarity, when the dense retriever found it
    keyword: float | None  # BM25 score, when the keyword retriever found it
    competencies: tuple[str, ...] = ()  # the source's competency tags

    def as_json(self) -> dict:
        return {**self.__dict__, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class Retrieval:
    """What a search found, and the question as the dense search embedded it (None when no dense search ran), so
    the answer's sentence scoring reuses it: a question is embedded once."""

    passages: list[Passage]
    query_vector: np.ndarray | None = None


class Retriever(Protocol):
    def retrieve(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
                 mode: str = "hybrid") -> Retrieval: ...


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class ChatModel(Protocol):
    """A chat model behind any OpenAI-compatible endpoint; raises ModelUnavailable when it cannot answer in time."""

    name: str

    def complete(self, system: str, user: str, *, on_delta: Callable[[str], None] | None = None,
                 budget_s: float = 20.0) -> Completion: ...


@dataclass(frozen=True)
class SendResult:
    """How a proactive send went: delivered, or why not and whether trying again later may help."""

    delivered: bool
    retry_after: float | None = None  # throttled or the platform failed for now: worth another try after this long
    reason: str = ""  # e.g. "the coach has never met this learner on Teams"


class Delivery(Protocol):
    """Sends a reply to a learner's personal chat without being asked (nudges, lessons, answers to closed gaps).
    `key` identifies this one delivery, so a platform that can remember it makes a retry after a crash safe."""

    platform: str

    async def send(self, learner_id: str, reply: Reply, key: str) -> SendResult: ...

    async def was_sent(self, learner_id: str, key: str) -> bool | None:
        """Whether the delivery with this key reached the learner (None: the platform cannot tell)."""
        ...
