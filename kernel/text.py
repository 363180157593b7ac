"""Word-level text handling shared by keyword search and answer checks: one tokenizer, so both agree."""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lowercased, stop words dropped, Snowball-stemmed words."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return _STEMMER.stemWords(words)
