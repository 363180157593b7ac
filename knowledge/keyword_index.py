"""The BM25 keyword index beside Chroma, rebuilt in memory from the database's chunks.

Chroma's own sparse index is refused in local mode, so BM25 (bm25s, each chunk stemmed with its language's Snowball
stemmer, the question with every language's) is derived from the database: each replica rebuilds it when the corpus
version changes, and there is no second source of truth.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import bm25s
import numpy as np

from kernel.text import query_tokens, tokenize
from knowledge.models import EVERYONE


class KeywordIndex:
    def __init__(self) -> None:
        self.version: str | None = None
        self._ids: list[str] = []
        self._retriever: bm25s.BM25 | None = None
        self._group_masks: dict[str, np.ndarray] = {}
        self._mask_cache: dict[frozenset[str], np.ndarray] = {}

    def build(self, ids: Sequence[str], texts: Sequence[str], audiences: Sequence[list[str]], version: str,
              languages: Sequence[str] | None = None) -> None:
        retriever = None
        if ids:
            retriever = bm25s.BM25()  # Lucene variant, k1=1.5, b=0.75
            languages = languages or ["en"] * len(texts)
            retriever.index([tokenize(t, lang) or [""] for t, lang in zip(texts, languages)], show_progress=False)
        masks: dict[str, np.ndarray] = {}
        for row, groups in enumerate(audiences):
            for group in groups:
                masks.setdefault(group.lower(), np.zeros(len(ids), dtype=bool))[row] = True
        self._ids, self._retriever, self._group_masks = list(ids), retriever, masks
        self._mask_cache = {}
        self.version = version

    def __len__(self) -> int:
        return len(self._ids)

    def query(self, text: str, *, groups: Iterable[str], n: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best chunks this audience may see; only positive scores."""
        tokens = query_tokens(text)
        if self._retriever is None or not tokens or n <= 0:
            return []
        ids = self._retriever.get_tokens_ids(tokens)
        if not ids:
            return []
        scores = self._retriever.get_scores_from_ids(ids) * self._allowed(groups)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def present(self, words: Sequence[str], *, groups: Iterable[str]) -> set[str]:
        """Which of these words some chunk this audience may see holds (by any language's stem): a word found only
        in content for other audiences counts as absent, so its presence tells nothing."""
        if self._retriever is None:
            return set()
        vocabulary, allowed, found = self._retriever.vocab_dict, self._allowed(groups), set()
        for word in words:
            ids = [vocabulary[t] for t in query_tokens(word) if t in vocabulary]
            if ids and (self._retriever.get_scores_from_ids(ids) * allowed).max() > 0:
                found.add(word)
        return found

    def _allowed(self, groups: Iterable[str]) -> np.ndarray:
        key = frozenset(g.lower() for g in [EVERYONE, *groups])
        mask = self._mask_cache.get(key)
        if mask is None:
            mask = np.zeros(len(self._ids), dtype=bool)
            for group in key:
                if group in self._group_masks:
                    mask |= self._group_masks[group]
            self._mask_cache[key] = mask
        return mask
