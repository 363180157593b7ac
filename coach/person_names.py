"""Person names in learner questions, best effort: the directory's names, and capitalised names after cues.

Full directory names match case-insensitively as whole words; a single part only when it is not also an ordinary
word ("Will", "May"). Cues: "my manager Anna", "Dr Jansen", "with Maria Gonzalez" (two words after weak cues).
A name typed without a cue and not in the directory is not caught: no NER model ships on PyPI officially.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

_SP = r"[ \u00a0]"
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_CAP = rf"(?:[{_UP}]['’][{_UP}][{_LO}]+|(?:Mc|Mac)?[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)?)"
_PARTICLE = r"(?:van|von|de|der|den|da|di|du|del|della|la|le|ter|ten|te|bin|ibn|al|el)"
_NAME_1_2 = rf"{_CAP}(?:{_SP}+(?:{_PARTICLE}{_SP}+){{0,2}}{_CAP})?"
_NAME_2 = rf"{_CAP}{_SP}+(?:{_PARTICLE}{_SP}+){{0,2}}{_CAP}"
_NAME_END = r"(?!\w|['’](?!s\b)\w)"  # a whole word, possibly possessive ("Jansen's")
_STRONG_CUE = re.compile(  # the look-aheads in front only make the scan cheaper
    r"(?=[mM][yY]\s)(?i:\bmy\s+(?:(?:line|direct|new|former|old|current|skip[- ]level)\s+)?"
    r"(?:manager|colleague|co-?worker|boss|supervisor|team\s?lead|lead|mentor|mentee|buddy|coach|teammate|peer|"
    r"report|director|intern)s?)\s*,?\s+"
    rf"(?P<name>{_NAME_1_2}){_NAME_END}"
)
_TITLE_CUE = re.compile(rf"(?=[DMP][rsxi])\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?{_SP}+(?P<name>{_NAME_1_2}){_NAME_END}")
_WEAK_CUE = re.compile(
    r"(?=[wWfFaAtTcCmMeEpP])(?i:\b(?:with|from|ask|asked|tell|told|contact|contacted|cc|meet|met|call|called|"
    rf"email|emailed|ping|pinged)){_SP}+(?P<name>{_NAME_2}){_NAME_END}"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]{2,})*")
_NEXT_WORD = re.compile(r"[ \t\u00a0]+([^\W\d_]+(?:['’\-][^\W\d_]{2,})*)")
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|"))

# Capitalised words that are not names after a cue ("with Microsoft Teams", "from Human Resources", "from Monday").
_NOT_NAMES = frozenset("""
i you he she we they it me him her us them my your his our their its the a an this that these those there here
what when where which who why how if then so and or but not no yes all any some every each
is am are was were be been has have had do does did can could would shall should might must
please thanks thank hi hello hey dear ok okay
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday
january february march july september october november december
christmas easter
microsoft teams google slack office excel word powerpoint power outlook sharepoint onedrive zoom workday sap
salesforce jira confluence github gitlab linkedin learning coursera udemy apple amazon aws azure oracle adobe
docs sheets drive meet calendar automate apps app bi tableau notion miro figma servicenow okta windows mac
new york san francisco los angeles las vegas united states kingdom america europe european asia africa
north south east west central city hall station airport street road avenue square park
amsterdam rotterdam utrecht eindhoven hague den haag london manchester dublin berlin paris brussels madrid
human resources people talent payroll benefits finance sales marketing legal support customer success service
services help desk helpdesk head department team group company board management leadership engineering product
operations ops compliance security privacy data health safety training development academy university school
budget policy handbook code conduct annual leave performance review project programme program business unit
global international national regional local internal external learning and development
""".split())

# Ordinary English words that are also first names or surnames: matched only as part of the full known name.
_ORDINARY = frozenset("""
will may mark bill grace rose hope joy faith june april august summer winter autumn dawn frank art guy jack max rob
pat sue don ray sky chase page hunt young long brown green white black gray grey king bell hall wood hill park lane
cook baker miller stone case cash price rich short little best bond booth bush field fisher ford fox gold hart hay
holiday house love major marsh mason moon more morning north west south east noble penny pool post power read reed
rice rock sharp shepherd street swift strong turner walker wall ward waters wells wise day law dean christian hunter
sunny iris lily amber crystal ruby pearl heather holly olive violet daisy sterling forest river storm rain star
happy miles bob drew gene bud carol jean nick robin sandy sonny grant lance don bishop cross dash
duke earl fair free glass gross hand harbor hardy hook key knight lord lamb mann mayor page paris pepper
tuesday monday sunday friday march
jan van de der den
""".split())



class NameIndex:
    """The directory's names, swapped copy-on-write so lookups never lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._full: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._singles: frozenset[str] = frozenset()

    def add(self, names: Iterable[str]) -> None:
        if isinstance(names, str):
            names = [names]
        with self._lock:
            full = {first: list(rest) for first, rest in self._full.items()}
            singles = set(self._singles)
            for name in names:
                if not isinstance(name, str):
                    continue
                parts = tuple(word.casefold() for word in _WORD.findall(name))
                if not parts:
                    continue
                if len(parts) > 1:
                    entries = full.setdefault(parts[0], [])
                    if parts not in entries:
                        entries.append(parts)
                for part in parts:
                    if len(part) > 2 and part not in _ORDINARY and part not in _PARTICLES:
                        singles.add(part)
            self._full = {first: tuple(sorted(entries, key=len, reverse=True)) for first, entries in full.items()}
            self._singles = frozenset(singles)

    def spans(self, text: str, add) -> None:
        """Calls `add((start, end, "PERSON"))` for each name found."""
        for m in _STRONG_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=1)
        for m in _TITLE_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=1)
        for m in _WEAK_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=2)
        full_names, singles = self._full, self._singles
        if not full_names and not singles:
            return
        skip_to = 0
        for word in _WORD.finditer(text):
            if word.start() < skip_to:
                continue
            folded = word.group().casefold()
            for parts in full_names.get(folded, ()):
                end = _rest_of_name(text, word.end(), parts)
                if end:
                    add((word.start(), end, "PERSON"))
                    skip_to = end
                    break
            else:
                if folded in singles:
                    add((word.start(), word.end(), "PERSON"))



def _rest_of_name(text: str, pos: int, parts: tuple[str, ...]) -> int:
    """Where the full name `parts` ends if its first word ends at `pos`, else 0."""
    for part in parts[1:]:
        following = _NEXT_WORD.match(text, pos)
        if following is None or following.group(1).casefold() != part:
            return 0
        pos = following.end()
    return pos


def _add_cued_name(m: re.Match, add, *, minimum_words: int) -> None:
    words = list(_WORD.finditer(m.group("name")))
    capitalised = [w for w in words if w.group().casefold() not in _PARTICLES]
    if not capitalised or capitalised[0].group().casefold() in _NOT_NAMES:
        return
    if len(capitalised) > 1 and capitalised[-1].group().casefold() in _NOT_NAMES:
        if minimum_words > 1:
            return
        words = words[:1]
    if len([w for w in words if w.group().casefold() not in _PARTICLES]) < minimum_words:
        return
    base = m.start("name")
    add((base + words[0].start(), base + words[-1].end(), "PERSON"))
