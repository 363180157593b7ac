"""A fake of the Retriever port (coach/ports.py) that records state: it holds the passages the test gives it,
returns those that share a word with the query and that the asked groups may see (`everyone` always), best first,
and records every search (query, context, groups, k) in `searches`, with the query's vector as the port returns it.

`embed` is a tiny deterministic embedding (hashed bag of words, L2-normalised) for the core's sentence scoring,
so no embedding model is loaded."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Iterable, Sequence

import numpy as np

from kernel.ports import Passage, Retrieval
from kernel.text import query_tokens, tokenize

DIMENSIONS = 256


def embed(texts: Sequence[str]) -> np.ndarray:
    rows = np.zeros((len(texts), DIMENSIONS), np.float32)
    for row, text in zip(rows, texts):
        for word in tokenize(text):
            row[zlib.crc32(word.encode()) % DIMENSIONS] += 1.0
        norm = np.linalg.norm(row)
        if norm:
            row /= norm
    return rows


def passage(text: str, *, title: str, audience: Iterable[str] = ("everyone",), competencies: Iterable[str] = (),
            source_id: str | None = None, where: str = "", dense: float = 0.8, keyword: float = 12.0,
            language: str = "en") -> Passage:
    """A retrieved chunk as the hybrid retriever would return it (scores as a strong match has them)."""
    source_id = source_id or title.lower().replace(" ", "-")
    return Passage(chunk_id=f"{source_id}#0", source_id=source_id, source_key=f"{source_id}.md", title=title,
                   doc_type="md", text=text, locator={}, where=where, link=f"https://learn.example.com/{source_id}",
                   updated_at=datetime(2026, 1, 5, tzinfo=UTC), audience=tuple(audience), score=1.0, dense=dense,
                   keyword=keyword, competencies=tuple(competencies), language=language)


@dataclass(frozen=True)
class Search:
    query: str
    context: tuple[str, ...]
    groups: tuple[str, ...]
    k: int
    mode: str


class FakeRetriever:
    def __init__(self, passages: Iterable[Passage] = ()) -> None:
        self.passages = list(passages)
        self.searches: list[Search] = []

    def retrieve(self, query: str, *, context: Sequence[str] = (), groups: Iterable[str] = (), k: int = 5,
                 mode: str = "hybrid") -> Retrieval:
        groups = tuple(groups)
        self.searches.append(Search(query, tuple(context), groups, k, mode))
        allowed = {"everyone", *groups}
        asked = set(tokenize(" ".join([query, *context])))
        found = [(len(asked & set(tokenize(f"{p.title} {p.text}"))), i, p) for i, p in enumerate(self.passages)
                 if allowed & set(p.audience)]
        ranked = [p for overlap, _, p in sorted(found, key=lambda f: (-f[0], f[1])) if overlap]
        return self._result(query, ranked[:k])

    def mentions(self, words: Sequence[str], *, groups: Iterable[str] = ()) -> set[str]:
        allowed = {"everyone", *groups}
        held = {t for p in self.passages if allowed & set(p.audience) for t in query_tokens(f"{p.title} {p.text}")}
        return {w for w in words if set(query_tokens(w)) & held}

    def _result(self, query: str, passages: list[Passage]) -> Retrieval:
        """The passages and the query's vector, as the port returns them (the core's sentence scoring reuses it)."""
        return Retrieval(passages, embed([query])[0])
