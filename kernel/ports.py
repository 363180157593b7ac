"""The retrieval port: what the knowledge base finds for a question, in the core's terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Protocol, Sequence

import numpy as np


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
    language: str = ""  # the chunk's language (ISO 639-1, kernel/language.py); "" when not known

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

    def mentions(self, words: Sequence[str], *, groups: Iterable[str] = ()) -> set[str]:
        """Which of `words` some content these groups may see mentions (by keyword, in any language served)."""
        ...
