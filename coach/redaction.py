"""Personal data out of learner questions before they reach the needs log or any language model.

Plain `re` with checksum validators (IBAN mod-97, card Luhn) rather than presidio + pattern recognizers: on our
cases presidio missed phone formats and took times and section numbers for phones and IPs, cost ~8x the time per
question (~0.85 ms vs ~0.1 ms) and ~1.2 s of import, and pulls in spaCy and phonenumbers (~250 MB) for an NER it
cannot use here, since no NER model ships on PyPI officially.

Structured entities (e-mail, phone, IBAN, card, IPv4, employee id, chat mentions, secrets in URL query strings)
are found by pattern and validated, so amounts, dates, times, percentages and section numbers stay as they are.
Person names are best effort: names from the directory (`known_names`, full names case-insensitively, single
parts only when they are not also ordinary words such as "Will" or "May") and capitalised names after cues such as
"my manager", "Dr" or "with ... ...". A name typed without cue and not in the directory is not caught.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Redaction", "Redactor", "DEFAULT_EMPLOYEE_ID_PATTERN"]

_log = logging.getLogger(__name__)

DEFAULT_EMPLOYEE_ID_PATTERN = r"\b[A-Z]{2,3}-?\d{4,8}\b"


@dataclass(frozen=True)
class Redaction:
    text: str  # the redacted text, entities replaced by placeholders such as <EMAIL>
    found: dict[str, int] = field(default_factory=dict)  # entity type -> count (never the values)


# Priority decides overlaps: a span found by an earlier kind wins over any later span it overlaps.
_PRIORITY = {kind: rank for rank, kind in enumerate(
    ["USER", "URL_WITH_TOKEN", "EMAIL", "IBAN", "CARD", "IP", "PHONE", "EMPLOYEE_ID", "PERSON"])}

# --- chat mentions ----------------------------------------------------------------------------------------------
_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,30}(?:\|[^<>\n]{0,200})?>|<at(?:\s[^<>]{0,200})?>[^<]{0,200}</at>", re.I)

# --- e-mail -----------------------------------------------------------------------------------------------------
# The look-behind makes a match start only at the beginning of a run, which keeps long runs linear.
_EMAIL = re.compile(r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,24}\b")

# --- URLs with secrets in the query string or fragment ----------------------------------------------------------
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`|\\{}]{1,4000}", re.I)
_SECRET_KEYS = frozenset("""
token access_token refresh_token id_token auth_token authtoken bearer auth authorization code key api_key apikey
api-key secret client_secret password passwd pwd pass sig signature x-amz-signature x-amz-credential
x-amz-security-token session sessionid session_id sid jwt otp private_token oauth_token oauth_verifier
""".split())
_SECRET_KEY_SUFFIXES = ("token", "secret", "password", "signature", "apikey", "api_key", "_key", "-key")
_SECRET_VALUE = re.compile(r"(?:xox[abposr]-|gh[pousr]_|sk-|eyJ[A-Za-z0-9_-]{10,}\.|AKIA[0-9A-Z]{12})")
_PARAM = re.compile(r"([^&;=#?]{0,100})=([^&;#]*)")

# --- IBAN -------------------------------------------------------------------------------------------------------
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})[0-9]{2}(?=[ A-Za-z0-9]{11})")

# --- payment cards ----------------------------------------------------------------------------------------------
_CARD = re.compile(r"(?<![0-9+\-.,/])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9]|[.,][0-9])")

_ANY_DIGIT = re.compile(r"[0-9]")

# --- IPv4 -------------------------------------------------------------------------------------------------------
_IPV4 = re.compile(r"(?<![0-9.])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9]|\.[0-9])")
_NUMBERING_CUE = re.compile(r"(?i)(?<!\w)(?:section|sections|clause|chapter|paragraph|para|article|art\.|"
                            r"version|release|step|item|v|§)\.?\s*$")

# --- phone numbers ----------------------------------------------------------------------------------------------
# A candidate is a run of digit groups joined by one separator each; it is atomic (digit groups are possessive), then
# the longest valid slices of it are taken, so "call 0612345678 10 times" keeps its "10" and "room 12" stays.
_SP = r"[ \u00a0]"
_PAREN = r"\([0-9]{1,5}\)"
_PHONE_GROUP = rf"(?:{_PAREN}{_SP}?)?[0-9]++|{_PAREN}"
_PHONE = re.compile(
    rf"(?=[0-9(+])(?<![\w@/.,+\-€$£¥#%])"
    rf"(?>(?:\+{_SP}?|\(\+[0-9]{{1,4}}\){_SP}?|\b00)?(?:{_PHONE_GROUP})"
    rf"(?:(?:{_SP}?[\-./]{_SP}?|{_SP}{{1,2}})(?:{_PHONE_GROUP})){{0,8}})"
    rf"(?![\w%‰€$£]|[.,][0-9])"
)
_GROUP_END = re.compile(r"[0-9)](?![0-9])")
_US_PHONE = re.compile(r"(?:1[ \-.]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ \-.])[0-9]{3}[ \-.][0-9]{4}")
_DATE_LIKE = re.compile(
    r"[0-9]{1,2}([./\-])[0-9]{1,2}\1(?:[0-9]{2}|[0-9]{4})|[0-9]{4}([./\-])[0-9]{1,2}\2[0-9]{1,2}")
# Total digits (country code included) for common country codes; others: 8-15 (E.164).
_COUNTRY_DIGITS = {"1": (11,), "31": (11,), "44": (11, 12), "32": (10, 11), "33": (11,), "34": (11,),
                   "39": tuple(range(10, 14)), "41": (11,), "43": tuple(range(9, 16)), "45": (10,),
                   "46": tuple(range(9, 13)), "47": (10,), "48": (11,), "49": tuple(range(9, 16)), "351": (12,),
                   "352": tuple(range(9, 15)), "353": (11, 12), "91": (12,), "61": (11,), "65": (10,)}

# --- names ------------------------------------------------------------------------------------------------------
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


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _phone_ok(candidate: str) -> bool:
    intl = candidate.startswith(("+", "(+"))
    body = candidate
    if not intl and candidate.startswith("00") and len(candidate) > 2 and candidate[2] != "0":
        intl, body = True, candidate[2:]
    last = re.search(r"([0-9]+)\)?$", candidate)
    if last is None or len(last.group(1)) < 2:
        return False
    if intl:
        digits = re.sub(r"[^0-9]", "", body.replace("(0)", "", 1))
        if not 8 <= len(digits) <= 15 or digits[0] == "0":
            return False
        for size in (3, 2, 1):
            lengths = _COUNTRY_DIGITS.get(digits[:size])
            if lengths is not None:
                return len(digits) in lengths
        return True
    if "(0)" in candidate:
        return False
    digits = re.sub(r"[^0-9]", "", candidate)
    if digits[0] == "0":
        if digits[1] == "0" or len(re.match(r"\(?([0-9]*)", candidate).group(1)) < 2 or _DATE_LIKE.fullmatch(candidate):
            return False
        return len(digits) == 10 or (len(digits) == 11 and digits[1] in "123789")
    return _US_PHONE.fullmatch(candidate) is not None


class Redactor:
    """Replaces personal data in a text by placeholders such as <EMAIL>; cheap to call, never raises on text."""

    def __init__(self, *, known_names: Iterable[str] = (),
                 employee_id_pattern: str | None = DEFAULT_EMPLOYEE_ID_PATTERN) -> None:
        self._employee_id = re.compile(employee_id_pattern) if employee_id_pattern else None
        self._lock = threading.Lock()
        # Copy-on-write: `redact` reads whatever tables are current, `add_names` swaps in new ones.
        self._full_names: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._single_names: frozenset[str] = frozenset()
        self.add_names(known_names)

    def add_names(self, names: Iterable[str]) -> None:
        if isinstance(names, str):
            names = [names]
        with self._lock:
            full = {first: list(rest) for first, rest in self._full_names.items()}
            singles = set(self._single_names)
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
            self._full_names = {first: tuple(sorted(entries, key=len, reverse=True)) for first, entries in full.items()}
            self._single_names = frozenset(singles)

    def redact(self, text: str) -> Redaction:
        try:
            if not isinstance(text, str):
                text = "" if text is None else str(text)
            return _apply(text, self._spans(text)) if text else Redaction("", {})
        except Exception as exc:  # noqa: BLE001 - a bug here must neither fail the question nor leak the text
            _log.error("redaction failed (%s); the whole text is withheld", type(exc).__name__)
            return Redaction("<REDACTED>", {"REDACTED": 1})

    # -- detection ------------------------------------------------------------------------------------------------

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        add = spans.append
        if "<" in text:
            for m in _MENTION.finditer(text):
                add((m.start(), m.end(), "USER"))
        if "://" in text or "www." in text:
            for m in _URL.finditer(text):
                spans.extend(_url_secrets(m.group(), m.start()))
        if "@" in text:
            for m in _EMAIL.finditer(text):
                add((m.start(), m.end(), "EMAIL"))
        if _ANY_DIGIT.search(text) is not None:  # most questions have none: skip the numeric scans
            for m in _IBAN_START.finditer(text):
                span = _iban_span(text, m.start(), m.group(1).upper())
                if span:
                    add((*span, "IBAN"))
            for m in _CARD.finditer(text):
                digits = re.sub(r"[^0-9]", "", m.group())
                if 13 <= len(digits) <= 19 and _luhn(digits) and len(set(digits)) > 1:
                    add((m.start(), m.end(), "CARD"))
            for m in _IPV4.finditer(text) if text.count(".") >= 3 else ():
                octets_ok = all(int(octet) <= 255 for octet in m.group().split("."))
                if octets_ok and not _NUMBERING_CUE.search(text, max(0, m.start() - 12), m.start()):
                    add((m.start(), m.end(), "IP"))
            for m in _PHONE.finditer(text):
                _phone_spans(m.group(), m.start(), add)
        if self._employee_id is not None:
            for m in self._employee_id.finditer(text):
                if m.end() > m.start() and not _looks_like_money_or_year(m.group()):
                    add((m.start(), m.end(), "EMPLOYEE_ID"))
        self._name_spans(text, add)
        return spans

    def _name_spans(self, text: str, add) -> None:
        for m in _STRONG_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=1)
        for m in _TITLE_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=1)
        for m in _WEAK_CUE.finditer(text):
            _add_cued_name(m, add, minimum_words=2)
        full_names, singles = self._full_names, self._single_names
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


def _phone_spans(candidate: str, offset: int, add) -> None:
    """The longest valid phone numbers inside a run of digit groups, left to right ("room 12 06 1234 5678")."""
    ends = [g.end() for g in _GROUP_END.finditer(candidate)]
    if len(ends) == 1:
        if _phone_ok(candidate):
            add((offset, offset + len(candidate), "PHONE"))
        return
    digits_before = [0]  # digits_before[i]: digits in candidate[:i], to skip hopeless slices cheaply
    for ch in candidate:
        digits_before.append(digits_before[-1] + ("0" <= ch <= "9"))
    starts = [0] + [i for i in range(1, len(candidate))
                    if candidate[i] in "0123456789(+" and candidate[i - 1] in " \u00a0-./"]
    done = 0
    for start in starts:
        if start < done:
            continue
        for end in reversed(ends):
            if end <= start:
                break
            if 8 <= digits_before[end] - digits_before[start] <= 18 and _phone_ok(candidate[start:end]):
                add((offset + start, offset + end, "PHONE"))
                done = end
                break


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


_MONEY_OR_YEAR_PREFIXES = frozenset(
    "FY CY EUR USD GBP CHF JPY CNY INR AUD CAD NZD SEK NOK DKK PLN CZK HUF ISO".split())


def _looks_like_money_or_year(value: str) -> bool:
    prefix = re.match(r"[A-Za-z]*", value).group().upper()
    return prefix in _MONEY_OR_YEAR_PREFIXES


def _iban_span(text: str, start: int, country: str) -> tuple[int, int] | None:
    length = _IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars: list[str] = []
    i, n = start, len(text)
    while i < n and len(chars) < length:
        ch = text[i]
        if ch == " ":
            if i + 1 >= n or text[i + 1] == " ":
                return None
        elif ch.isascii() and ch.isalnum():
            chars.append(ch.upper())
        else:
            return None
        i += 1
    if len(chars) < length or (i < n and text[i].isascii() and text[i].isalnum()):
        return None
    compact = "".join(chars)
    return (start, i) if compact[2:4].isdigit() and _iban_ok(compact) else None


def _url_secrets(url: str, offset: int) -> list[tuple[int, int, str]]:
    trimmed = url.rstrip(".,;:!?)]}'\"")
    query_at = trimmed.find("?")
    fragment_at = trimmed.find("#")
    starts = [p for p in (query_at, fragment_at) if p >= 0]
    if not starts:
        return []
    spans = []
    for m in _PARAM.finditer(trimmed, min(starts) + 1):
        key, value = m.group(1).strip().lower(), m.group(2)
        if not value:
            continue
        if (key in _SECRET_KEYS or key.endswith(_SECRET_KEY_SUFFIXES)
                or _SECRET_VALUE.match(value) is not None):
            spans.append((offset + m.start(2), offset + m.end(2), "URL_WITH_TOKEN"))
    return spans


def _apply(text: str, spans: list[tuple[int, int, str]]) -> Redaction:
    if not spans:
        return Redaction(text, {})
    spans.sort(key=lambda s: (_PRIORITY[s[2]], s[0], -(s[1] - s[0])))
    starts: list[int] = []  # accepted spans, sorted by start, never overlapping
    ends: list[int] = []
    kinds: list[str] = []
    for start, end, kind in spans:
        if end <= start:
            continue
        i = bisect.bisect_right(starts, start)
        if (i > 0 and ends[i - 1] > start) or (i < len(starts) and starts[i] < end):
            continue
        starts.insert(i, start)
        ends.insert(i, end)
        kinds.insert(i, kind)
    out: list[str] = []
    found: dict[str, int] = {}
    cursor = 0
    for start, end, kind in zip(starts, ends, kinds):
        out.append(text[cursor:start])
        out.append(f"<{kind}>")
        found[kind] = found.get(kind, 0) + 1
        cursor = end
    out.append(text[cursor:])
    return Redaction("".join(out), found)
