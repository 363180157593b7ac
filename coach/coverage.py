"""What a question names that the content quoted for it does not mention ("and for electric cars?" answered from a
rate table that has cars but no electric ones), so the answer says so before quoting what the content does say,
and the need is logged as answered in part (a content gap for L&D).

A word counts as not covered only when it names a particular thing (a name or an acronym, or a word narrowing one
the passages have: "electric" cars), no quoted passage has it (by stem in any language served, as a near spelling or
as part of a compound) and no content this learner may see mentions it at all: a word the base holds elsewhere is
most likely said differently here (the retrieval judged these passages best), and a word known only to other
audiences' content must not change what this learner is told.
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Sequence

from kernel.ports import Passage
from kernel.text import LANGUAGES, is_stopword, query_tokens

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# words that frame a question rather than name its subject
_FRAMING = frozenset("""what which who whom whose when where why how does did can could should would may might must shall
    will get got please tell know explain question help thanks thank hi hello hey coach anything something also
    this that these those only about else other same then there here one ones thing things way case
    wat welke wie wanneer waar waarom hoe hoeveel kan kun kunt mag moet moeten krijg krijgt krijgen doe graag
    vertel weet weten uitleggen vraag hoi hallo bedankt dank iets ook dit dat deze die daar hier alleen zit zitten
    ander andere zelfde dan ding dingen manier geval""".split())
STANDALONE_WORDS = 3
NEAR = 0.85  # difflib ratio: a misspelling of a quoted word ("milage") is that word


def not_covered(question: str, quoted: Sequence[Passage], mentions: Callable[[Sequence[str]], set[str]]) -> list[str]:
    """The phrases of `question` (in its own words) naming something absent from `quoted` and from all the content
    `mentions` knows; [] when everything it names is there."""
    words = _WORD.findall(question)
    content = [_is_content(w) for w in words]
    held_text = " ".join(f"{p.title} {p.where} {p.text}" for p in quoted)
    held = set(query_tokens(held_text))
    spelled = {w.lower() for w in _WORD.findall(held_text)}
    absent = [i for i, w in enumerate(words) if content[i] and not set(query_tokens(w)) & held
              and not difflib.get_close_matches(w.lower(), spelled, n=1, cutoff=NEAR) and not _compound(w, spelled)]
    if not absent:
        return []
    # only what names a particular thing: a name or an acronym ("Tesla", "US"), or a word that narrows one the
    # content does have ("electric" cars); a plain absent word ("visit") is most often just said differently
    covered = [content[i] and i not in absent for i in range(len(words))]
    absent = [i for i in absent if (i > 0 and words[i][:1].isupper()) or (words[i].isupper() and len(words[i]) > 1)
              or (i + 1 < len(words) and covered[i + 1] and _adjacent(question, words, i))]
    known = mentions([words[i] for i in absent]) if absent else set()
    absent = [i for i in absent if words[i] not in known]
    phrases: list[str] = []
    for i in absent:  # the run of content words around each absent one: "electric cars", not "electric"
        start, end = i, i
        while start > 0 and content[start - 1] and _adjacent(question, words, start - 1):
            start -= 1
        while end + 1 < len(words) and content[end + 1] and _adjacent(question, words, end):
            end += 1
        phrase = " ".join(words[start:end + 1])
        if phrase not in phrases and not any(phrase in p for p in phrases):
            phrases.append(phrase)
    return phrases


def stands_alone(question: str) -> bool:
    """Names three things or more: a question of its own, not a follow-up ("and for electric cars?")."""
    return sum(_is_content(w) for w in _WORD.findall(question)) >= STANDALONE_WORDS


def _compound(word: str, spelled: set[str]) -> bool:
    """Part of a compound the passages hold, or holding one of their words ("kilometervergoeding" and
    "vergoeding"): Dutch writes compounds as one word."""
    lower = word.lower()
    return len(lower) >= 5 and any(len(s) >= 5 and (s in lower or lower in s) for s in spelled)


def _is_content(word: str) -> bool:
    lower = word.lower().strip("'’-")
    if word.isupper() and len(word) >= 2:  # UK, HR, VPN
        return True
    return len(lower) >= 3 and lower not in _FRAMING and not any(is_stopword(lower, lang) for lang in LANGUAGES)


def _adjacent(question: str, words: list[str], i: int) -> bool:
    """Words i and i+1 stand next to each other, with only spaces between them (no comma, no "and")."""
    pattern = re.escape(words[i]) + r"\s+" + re.escape(words[i + 1])
    return re.search(pattern, question) is not None
