"""The answer without a language model: the sentences of the best passages that answer the question, quoted.

Sentences are scored by the cosine of their embedding with the question's, so the quote is the part of a passage
that speaks to the question, not its first lines. The same scores feed the abstention decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from kernel.ports import Passage
from kernel.text import tokenize

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9€£$])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_STEP = re.compile(r"^\s*\d+[.)]\s+")
MIN_CHARS, MAX_CHARS = 25, 400
MAX_EMBEDDED = 8  # the embedding cost grows with the words embedded: 8 sentences cut to SCORED_CHARS each
SCORED_CHARS = 240
RANK_PRIOR = 0.15


@dataclass(frozen=True)
class Sentence:
    text: str
    passage: int  # index into the passages given
    score: float  # cosine with the question
    rank: float  # the cosine plus a little of the passage's own retrieval score: the order sentences are quoted in


def sentences_of(passage: Passage) -> list[str]:
    """Quotable units: sentences, with a run of list items (steps, bullets) kept together as one unit.

    Questions in the content ("Can they use the budget?") are not answers and are left out."""
    units: list[str] = []
    items: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if items:
            units.append(_join_items(items))
            items.clear()
        if paragraph:  # lines of a paragraph are joined: PDFs and transcripts wrap mid-sentence
            units.extend(part.strip() for part in _SPLIT.split(" ".join(paragraph)))
            paragraph.clear()

    for line in passage.text.splitlines():
        text = line.strip()
        if _BULLET.match(line):
            if paragraph or (items and not _STEP.match(line)):
                flush()  # numbered steps stay together; bullets are separate statements
            items.append(_BULLET.sub("", line).strip())
        elif text and items and not items[-1].endswith((".", "!", "?", ":")):
            items[-1] = f"{items[-1]} {text}"  # a wrapped list item
        elif text:
            if items:
                flush()
            paragraph.append(text)
        else:
            flush()
    flush()
    return [_clip(u) for u in units if len(u) >= MIN_CHARS and not u.startswith("#") and not u.endswith("?")]


def _join_items(items: list[str]) -> str:
    joined = ""
    for item in items:
        if joined and len(joined) + len(item) + 2 > MAX_CHARS:
            break
        joined = f"{joined}; {item}" if joined else item
    return joined


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def score_sentences(question: str, passages: Sequence[Passage], embed: Embed, limit: int = MAX_EMBEDDED,
                    query_vector: np.ndarray | None = None) -> list[Sentence]:
    """The passages' sentences, best first. Embedding them is most of an extractive answer's time, so only `limit`
    are embedded, those sharing the most words with the question (then the earlier passages'), each cut to
    SCORED_CHARS for scoring (the quote keeps the whole sentence). `query_vector`: the question as retrieval
    embedded it (then it is not embedded again)."""
    candidates = [(i, s) for i, p in enumerate(passages) for s in sentences_of(p)]
    if not candidates:
        return []
    if len(candidates) > limit:
        asked = set(tokenize(question))
        candidates = sorted(candidates, key=lambda c: (-len(asked & set(tokenize(c[1]))), c[0]))[:limit]
    texts = [s[:SCORED_CHARS] for _, s in candidates]
    if query_vector is None:
        vectors = embed([question, *texts])
        query_vector, vectors = vectors[0], vectors[1:]
    else:
        vectors = embed(texts)
    scores = vectors @ query_vector
    # a sentence from a better-ranked passage wins a near tie: the passage's other evidence counts too
    ranked = [Sentence(s, i, float(score), float(score) + RANK_PRIOR * passages[i].score)
              for (i, s), score in zip(candidates, scores)]
    return sorted(ranked, key=lambda s: (-s.rank, s.passage))


def choose(sentences: Sequence[Sentence], *, limit: int = 3, within: float = 0.12, max_chars: int = 600) -> list[Sentence]:
    """The best sentence and those nearly as good (within `within` of it). A sentence seen twice (chunks overlap)
    is quoted once, in its longer form."""
    if not sentences:
        return []
    best = sentences[0].rank
    chosen: list[Sentence] = []
    for sentence in sentences:
        if len(chosen) == limit or sentence.rank < best - within:
            break
        twin = next((c for c in chosen if _same(c.text, sentence.text)), None)
        if twin is not None:
            if len(sentence.text) > len(twin.text):
                chosen[chosen.index(twin)] = replace(sentence, rank=twin.rank)
            continue
        if chosen and sum(len(c.text) for c in chosen) + len(sentence.text) > max_chars:
            break
        chosen.append(sentence)
    return chosen


def _same(a: str, b: str) -> bool:
    """One is the other cut short (a chunk boundary fell inside it)."""
    a, b = (" ".join(t.lower().rstrip("….").split()) for t in (a, b))
    return a.startswith(b) or b.startswith(a)
