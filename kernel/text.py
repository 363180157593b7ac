"""Word-level text handling shared by keyword search and answer checks: one tokenizer, so both agree.

Each language the coach serves has its Snowball stemmer and stop words. A chunk is tokenized in its own language
(kernel/language.py tells which); a question in every one of them, so a Dutch question matches Dutch chunks by
their Dutch stems and English chunks by their English ones, in a base that holds both.
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

LANGUAGES = ("en", "nl")  # ISO 639-1; the first is the default
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = {"en": frozenset(STOPWORDS_EN), "nl": frozenset(STOPWORDS_DUTCH)}
_STEMMERS = {"en": Stemmer.Stemmer("english"), "nl": Stemmer.Stemmer("dutch")}


def tokenize(text: str, language: str = "en") -> list[str]:
    """Lowercased, stop words dropped, Snowball-stemmed words (English for a language the coach does not serve)."""
    language = language if language in _STEMMERS else "en"
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP[language]]
    return _STEMMERS[language].stemWords(words)


def is_stopword(word: str, language: str) -> bool:
    return word.lower() in _STOP.get(language, _STOP["en"])


def query_tokens(text: str) -> list[str]:
    """A question's tokens in every language served, each once, in order."""
    return list(dict.fromkeys(token for language in LANGUAGES for token in tokenize(text, language)))


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: cut at a word boundary (unless that loses more than half) with an
    ellipsis, never mid-word as a plain slice does ("...when a meal is prov")."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if (space := cut.rfind(" ")) > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"
