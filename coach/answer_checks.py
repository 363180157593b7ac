"""What a model's answer must pass before a learner sees it; an answer that fails is replaced by the quoted one.

- `echo`: it repeats the prompt (the rules, the passage markup) or recites the passages wholesale;
- `too_long`: it ran to the token limit (cut off) or past the length bound;
- `numbers`: it states a number that is in neither the cited passages nor the question (0,23 and 0.23 are one
  number, as are 1,200 and 1.200);
- `unsupported`: a sentence of it is like no sentence of the passages it cites, by the cosine of their embeddings
  with the (multilingual) embedding model already loaded, so a Dutch answer from English passages is checked too.
Cheap by design: word n-grams, a regular expression, and one batch of sentence embeddings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coach.extractive import Embed, sentences_of
from kernel.ports import Passage

MAX_ANSWER_CHARS = 1500  # the prompt asks for at most 120 words (~800 characters)
GRAM = 6  # words in a run that counts as copied
_WORD = re.compile(r"\w+")
_MARKER = re.compile(r"\s*\[\d+\]")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MIN_WORDS = 4  # shorter sentences ("Yes." "In short:") are not checked for support


def problem(text: str, *, rules: str, passages: Sequence[Passage], cited: Sequence[int], question: str,
            finish_reason: str, embed: Embed, support: float) -> str | None:
    """None when the answer may be shown; else the outcome that names what is wrong with it."""
    if finish_reason == "length" or len(text) > MAX_ANSWER_CHARS:
        return "too_long"
    sources = [passages[n - 1] for n in cited]
    if _echoes(text, rules, passages):
        return "echo"
    if not _numbers(text) <= _numbers(" ".join([question, *(p.text for p in sources)])):
        return "numbers"
    if not supported(text, sources, embed, support):
        return "unsupported"
    return None


def _grams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + GRAM]) for i in range(len(words) - GRAM + 1)}


def _echoes(text: str, rules: str, passages: Sequence[Passage]) -> bool:
    """The prompt's own words (its rules, its markup), or most of an answer of some length copied from passages."""
    if "<passage" in text or "</passage" in text:
        return True
    answer = _grams(text)
    if not answer:
        return False
    if len(answer & _grams(rules)) >= max(2, len(answer) // 5):
        return True
    copied = answer & set().union(*(_grams(p.text) for p in passages))
    return len(answer) >= 60 and len(copied) >= 0.8 * len(answer)


def _numbers(text: str) -> set[float]:
    """Every value each number in `text` may stand for: "1,200" is 1200 (or 1.2), "0,23" is 0.23; list numbers and
    small counts (0-10) are left out, as they are often written as words or as the answer's own steps."""
    values: set[float] = set()
    for token in _NUMBER.findall(_MARKER.sub("", text)):
        readings = _readings(token)
        if readings and not (token.isdigit() and int(token) <= 10):
            values |= readings
    return values


def _readings(token: str) -> set[float]:
    separators = [ch for ch in token if ch in ".,"]
    if not separators:
        return {float(token)}
    if len(set(separators)) == 2:  # 1.234,56 or 1,234.56: the last one is the decimal mark
        decimal = separators[-1]
        whole, _, fraction = token.rpartition(decimal)
        return {float(re.sub(r"[.,]", "", whole) + "." + fraction)}
    groups = re.split(r"[.,]", token)
    readings = set()
    if all(len(g) == 3 for g in groups[1:]):  # thousands separators
        readings.add(float("".join(groups)))
    if len(groups) == 2:  # a decimal mark
        readings.add(float(f"{groups[0]}.{groups[1]}"))
    return readings


def sentences(text: str) -> list[str]:
    """The answer's sentences, without their [n] markers, long enough to be checked."""
    parts = (_MARKER.sub("", part).strip(" -*•") for part in _SENTENCE.split(text))
    return [part for part in parts if len(_WORD.findall(part)) >= MIN_WORDS]


def evidence_of(passage: Passage) -> list[str]:
    """What an answer's sentence is compared with: the passage's sentences, or its whole text when it has none."""
    return sentences_of(passage) or [passage.text]


def supported(text: str, sources: Sequence[Passage], embed: Embed, support: float) -> bool:
    """Every sentence of the answer has a sentence in its sources at least `support` alike (cosine)."""
    claims = sentences(text)
    evidence = [s for passage in sources for s in evidence_of(passage)]
    if not claims:
        return True
    if not evidence:
        return False
    vectors = embed([*claims, *evidence])
    similarity = np.asarray(vectors[:len(claims)]) @ np.asarray(vectors[len(claims):]).T
    return bool(similarity.max(axis=1).min() >= support)
