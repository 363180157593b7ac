"""Which language a text is written in: a chunk, so the keyword index stems it with that language's Snowball stemmer;
a learner's message, so the coach answers in the language it was asked in.

lingua (`lingua-language-detector`: its models ship in the wheel, nothing is downloaded) restricted to the languages
the coach serves, so a short text is told apart reliably and cheaply (about 3 ms for a sentence on this machine).
"""

from __future__ import annotations

import threading

from kernel.text import LANGUAGES

_detector = None
_lock = threading.Lock()


# a message says its language only when it is long enough and lingua is sure enough: "ok", "per diem UK" or
# "Atlas declaratie" do not (measured: lingua gives short English phrases 0.7 Dutch), "wat is het kilometertarief?" does
MIN_WORDS = 4
MIN_CONFIDENCE = 0.7


def _lingua():
    global _detector
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES]
            _detector = LanguageDetectorBuilder.from_languages(*languages).build()
    return _detector


def detect(text: str) -> str:
    """One of kernel.text.LANGUAGES; the first (English) when the text does not say."""
    if not text.strip():
        return LANGUAGES[0]
    found = _lingua().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else LANGUAGES[0]


def written_in(text: str) -> str | None:
    """The language a message is clearly written in, or None when it is too short or too mixed to tell."""
    if len(text.split()) < MIN_WORDS:
        return None
    best = _lingua().compute_language_confidence_values(text)[0]
    return best.language.iso_code_639_1.name.lower() if best.value >= MIN_CONFIDENCE else None
