"""The coach's own words in the learner's language: gettext catalogs (coach/locale/<lang>/LC_MESSAGES/coach.po,
managed with Babel: `make i18n`; the compiled .mo files ship in the wheel and are read with the standard library).

The language of what is being said is a context variable: the core sets it for a question or a button press
(`speaking`), and everything built under it (the reply, its buttons, a connector's blocks or card) is translated by
`_` / `ngettext` at the moment it is built. Module-level texts are marked with `N_` and translated where they are used.
asyncio tasks and `asyncio.to_thread` carry the variable with them.
"""

from __future__ import annotations

import gettext as _gettext
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import Iterator

LANGUAGES = ("en", "nl")  # the first is the source language of the catalogs and the default
NAMES = {"en": "English", "nl": "Nederlands"}  # each language in its own words
ENGLISH_NAMES = {"en": "English", "nl": "Dutch"}  # for a language model's instructions
DOMAIN = "coach"
LOCALE_DIR = Path(__file__).with_name("locale")

_language: ContextVar[str] = ContextVar("coach_language", default=LANGUAGES[0])


@cache
def _catalog(language: str) -> _gettext.NullTranslations:
    # a missing catalog (a packaging slip, caught by tests and the wheel check) falls back to English: a reply never
    # fails on it
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def current() -> str:
    return _language.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Within the block, `_` says things in `language` (a supported code, else the default)."""
    token = _language.set(supported(language) or LANGUAGES[0])
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def _(message: str) -> str:
    return _catalog(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalog where it cannot be translated yet (a module constant): `_()` it when used."""
    return message


# the calendar in the words of the language spoken (strftime's %A / %b follow the server's locale, not the learner's)
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"), N_("August"),
          N_("September"), N_("October"), N_("November"), N_("December"))
SHORT_MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
                N_("Oct"), N_("Nov"), N_("Dec"))


def short_date(when: date, *, year: bool = True) -> str:
    """"05 Mar 2026" / "05 mrt 2026"; without the year "5 Mar"."""
    month = _(SHORT_MONTHS[when.month - 1])
    return f"{when.day:02d} {month} {when.year}" if year else f"{when.day} {month}"


def supported(locale: str | None) -> str | None:
    """"nl-NL", "nl_BE", "NL", "nl_NL.UTF-8" -> "nl"; a language the coach does not speak, or nothing, -> None."""
    if not locale:
        return None
    code = re.split(r"[-_.@]", locale.strip(), maxsplit=1)[0].lower()
    return code if code in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The browser's most preferred language the coach speaks (RFC 9110 weights), or None."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if (match := re.search(r"q\s*=\s*([^;\s]*)", params)):
            try:
                weight = float(match.group(1))
            except ValueError:  # a malformed weight: that entry is ignored
                continue
        language = supported(tag)
        if language and weight > 0 and (best is None or (weight, -position) > (best[0], best[1])):
            best = (weight, -position, language)
    return best[2] if best else None
