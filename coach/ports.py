"""The small ports the core talks to; adapters in knowledge/ and connectors/ implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Protocol, Sequence


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


class Retriever(Protocol):
    def search(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
               mode: str = "hybrid") -> list[Passage]: ...


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
