"""Personal data out of learner questions before they reach the needs log or any language model.

Patterns find candidates, well-kept validators decide: libphonenumber's metadata (`phonenumbers`) for phone
numbers, python-stdnum's eleven-test for Dutch BSNs, IBAN mod-97 and card Luhn here. Presidio was measured and
dropped: on our cases it missed phone formats and took times and section numbers for phones and IPs, cost ~8x the time
per question (~0.85 ms vs ~0.1 ms) and ~1.2 s of import, and pulls in spaCy (~250 MB) for an NER it cannot use here,
since no NER model ships on PyPI officially.

Structured entities (e-mail, phone, IBAN, card, Dutch BSN, IPv4, employee id, chat mentions, secrets in URL query
strings) are found by pattern and validated, so amounts, dates, times, percentages and section numbers stay as they
are.
Person names are best effort (coach/person_names.py): names from the directory and capitalised names after cues.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum.nl import bsn

from coach.person_names import NameIndex

__all__ = ["Redaction", "Redactor", "DEFAULT_EMPLOYEE_ID_PATTERN"]

_log = logging.getLogger(__name__)

DEFAULT_EMPLOYEE_ID_PATTERN = r"\b[A-Z]{2,3}-?\d{4,8}\b"


@dataclass(frozen=True)
class Redaction:
    text: str  # the redacted text, entities replaced by placeholders such as <EMAIL>
    found: dict[str, int] = field(default_factory=dict)  # entity type -> count (never the values)


# Priority decides overlaps: a span found by an earlier kind wins over any later span it overlaps.
_PRIORITY = {kind: rank for rank, kind in enumerate(
    ["USER", "URL_WITH_TOKEN", "EMAIL", "IBAN", "CARD", "BSN", "IP", "PHONE", "EMPLOYEE_ID", "PERSON"])}

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

# --- Dutch citizen service numbers (BSN): nine digits, as written (123456782, 1234.56.782, 1234 56 782), that pass
# the eleven-test (python-stdnum's nl.bsn); other nine-digit numbers stay
_BSN = re.compile(r"(?<![0-9+\-.,/])[0-9]{4}([ .]?)[0-9]{2}\1[0-9]{3}(?![0-9]|[.,][0-9])")

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
    rf"(?:(?:{_SP}?[\-./]{_SP}?|{_SP}{{1,2}})(?:{_PHONE_GROUP})){{0,40}})"  # numbers side by side: one run
    rf"(?![\w%‰€$£]|[.,][0-9])"
)
_GROUP_END = re.compile(r"[0-9)](?![0-9])")
_US_PHONE = re.compile(r"(?:1[ \-.]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ \-.])[0-9]{3}[ \-.][0-9]{4}")
_DATE_LIKE = re.compile(
    r"[0-9]{1,2}([./\-])[0-9]{1,2}\1(?:[0-9]{2}|[0-9]{4})|[0-9]{4}([./\-])[0-9]{1,2}\2[0-9]{1,2}")
# Numbers written without a country code are read as numbers of these countries, in this order (the coach's users
# are mostly in the Netherlands and its neighbours); a "+" or "00" prefix names the country itself. Not Germany:
# its national numbers have no fixed length, so "0612345678 10" would read as one number.
_NATIONAL_REGIONS = ("NL", "BE", "GB")
_COMPANY_TYPES = frozenset((phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
                            phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN))


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


@functools.lru_cache(maxsize=4096)
def _phone_ok(candidate: str) -> bool:
    """A person's phone number by libphonenumber's metadata (the `phonenumbers` package), in the country named by a
    "+" or "00" prefix, else in `_NATIONAL_REGIONS` for a number with a trunk 0 (the first where it is valid
    decides), else in North America for a number shaped like one. See `_personal_number`."""
    last = re.search(r"([0-9]+)\)?$", candidate)
    if last is None or len(last.group(1)) < 2:
        return False
    if candidate.startswith(("+", "(+")):
        return candidate[1 + candidate.startswith("(+"):].lstrip(" \u00a0(")[:1] != "0" and \
            _personal_number(candidate, (None,))
    if candidate.startswith("00") and len(candidate) > 2 and candidate[2] != "0":
        return _personal_number("+" + candidate[2:], (None,))
    if "(0)" in candidate:
        return False
    if candidate.lstrip("(").startswith("0"):
        if len(re.match(r"\(?([0-9]*)", candidate).group(1)) < 2 or _DATE_LIKE.fullmatch(candidate):
            return False
        return _personal_number(candidate, _NATIONAL_REGIONS)
    return _US_PHONE.fullmatch(candidate) is not None and _personal_number(candidate, ("US",))


def _personal_number(candidate: str, regions: tuple[str | None, ...]) -> bool:
    """Valid in the first of `regions` where it is, and not a company's number there (toll-free, premium,
    shared-cost, company-wide: helplines, and "0900-1700" is more often a time range); or valid nowhere, but where
    all fixed lines or all mobiles have one length (the UK's mobiles, North America), exactly that long: the reserved
    fictional ranges (07700 900xxx, 555-xxxx) and ranges newer than the metadata count too."""
    numbers = []
    for region in regions:
        try:
            numbers.append(phonenumbers.parse(candidate, region))
        except phonenumbers.NumberParseException:
            continue
    for number in numbers:
        if phonenumbers.is_valid_number(number):
            return phonenumbers.number_type(number) not in _COMPANY_TYPES
    return any(len(str(number.national_number)) in
               _one_length(phonenumbers.region_code_for_country_code(number.country_code)) for number in numbers)


@functools.cache
def _one_length(region: str) -> frozenset[int]:
    """The lengths of national numbers for the fixed lines and the mobiles of `region` that have one length only."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return frozenset()
    return frozenset(desc.possible_length[0] for desc in (metadata.fixed_line, metadata.mobile)
                     if desc is not None and len(desc.possible_length) == 1)


class Redactor:
    """Replaces personal data in a text by placeholders such as <EMAIL>; cheap to call, never raises on text."""

    def __init__(self, *, known_names: Iterable[str] = (),
                 employee_id_pattern: str | None = DEFAULT_EMPLOYEE_ID_PATTERN) -> None:
        self._employee_id = re.compile(employee_id_pattern) if employee_id_pattern else None
        self._names = NameIndex()
        self._names.add(known_names)

    def add_names(self, names: Iterable[str]) -> None:
        self._names.add(names)

    def redact(self, text: str) -> Redaction:
        """Fails closed, on purpose: redaction stands between a learner's words and the needs log, the model prompts
        and the logs, so an internal error (a bug in a pattern, a validator or the span merge) must neither fail the
        question nor let the text through unredacted. The whole text is then withheld: the caller gets
        `Redaction("<REDACTED>", {"REDACTED": 1})`, and the log names only the error's type, since its message may
        quote the text. Catching every exception here is deliberate, not a swallowed bug."""
        try:
            if not isinstance(text, str):
                text = "" if text is None else str(text)
            return _apply(text, self._spans(text)) if text else Redaction("", {})
        except Exception as exc:  # noqa: BLE001 - fail closed (see the docstring)
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
            for m in _BSN.finditer(text):
                if bsn.is_valid(re.sub(r"[^0-9]", "", m.group())):
                    add((m.start(), m.end(), "BSN"))
            for m in _IPV4.finditer(text) if text.count(".") >= 3 else ():
                octets_ok = all(int(octet) <= 255 for octet in m.group().split("."))
                if octets_ok and not _NUMBERING_CUE.search(text, max(0, m.start() - 12), m.start()):
                    add((m.start(), m.end(), "IP"))
            found = list(spans)  # an IBAN's, card's or BSN's digits are never read as (part of) a phone number
            for m in _PHONE.finditer(text):
                _phone_spans(m.group(), m.start(), add, found)
        if self._employee_id is not None:
            for m in self._employee_id.finditer(text):
                if m.end() > m.start() and not _looks_like_money_or_year(m.group()):
                    add((m.start(), m.end(), "EMPLOYEE_ID"))
        self._names.spans(text, add)
        return spans

def _phone_spans(candidate: str, offset: int, add, found: list[tuple[int, int, str]]) -> None:
    """The longest valid phone numbers inside a run of digit groups, left to right ("room 12 06 1234 5678"), that
    overlap nothing `found` already."""
    def free(start: int, end: int) -> bool:
        return not any(s < offset + end and offset + start < e for s, e, _kind in found)

    ends = [g.end() for g in _GROUP_END.finditer(candidate)]
    if len(ends) == 1:
        if _phone_ok(candidate) and free(0, len(candidate)):
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
            if 8 <= digits_before[end] - digits_before[start] <= 18 and free(start, end) and \
                    _phone_ok(candidate[start:end]):
                add((offset + start, offset + end, "PHONE"))
                done = end
                break


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
