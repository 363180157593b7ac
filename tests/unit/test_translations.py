"""The coach's catalogs: every text the coach says (as `make i18n` extracts it) has a Dutch translation that keeps
its placeholders, and the compiled catalog that ships is the one the translators wrote."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from coach import i18n

REPO = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.LANGUAGES[0]]


def said() -> dict[str, str]:
    """Every msgid in the source (singular forms; plural ones too) -> where it is said."""
    with open(REPO / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(REPO, method_map, options_map):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def catalog(language: str):
    with open(i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as po:
        return read_po(po, locale=language)


def test_the_source_says_things_through_the_catalog():
    assert len(said()) > 150  # the texts are marked, not written past the catalog


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_the_coach_says_has_a_translation(language):
    entries = catalog(language)
    missing = []
    for msgid, where in said().items():
        message = entries.get(msgid)
        if message is None:
            # a plural's second form is the plural msgid of an entry keyed by its first
            if any(isinstance(m.id, tuple) and msgid in m.id for m in entries):
                continue
            missing.append(f"{where}: {msgid!r} is not in the {language} catalog (run `make i18n`)")
        elif message.fuzzy or not all(message.string if isinstance(message.string, tuple) else [message.string]):
            missing.append(f"{where}: {msgid!r} has no {language} translation (or a fuzzy one)")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language):
    """Babel's checks (%-style placeholders, plural forms), and the {named} fields that str.format fills."""
    problems = [f"{message.id!r}: {error}" for message, errors in catalog(language).check() for error in errors]
    for message in catalog(language):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"\{(\w*)\}", ids[-1]))
        for string in filter(None, strings):
            if set(re.findall(r"\{(\w*)\}", string)) != wanted:
                problems.append(f"{message.id!r}: the translation {string!r} does not have the fields {sorted(wanted)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_one_written(language):
    with open(i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for message in catalog(language):
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            got = tuple(compiled.ngettext(message.id[0], message.id[1], n) for n in (1, 2))
            want = tuple(message.string[:2])
        else:
            got, want = compiled.gettext(message.id), message.string
        if got != want:
            stale.append(f"{message.id!r}: compiled {got!r}, written {want!r}")
    assert not stale, "run `make i18n` to compile the catalogs:\n" + "\n".join(stale)


def test_the_language_follows_the_context_and_falls_back_to_english():
    text = "Cancelled: nothing was changed."
    assert i18n._(text) == text
    with i18n.speaking("nl-NL"):
        assert i18n.current() == "nl" and i18n._(text) != text
        with i18n.speaking("fr"):
            assert i18n.current() == "en" and i18n._(text) == text
        assert i18n.current() == "nl"
    assert i18n.current() == "en"


@pytest.mark.parametrize("header, language", [
    ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),
    ("en-GB,en;q=0.9,nl;q=0.8", "en"),
    ("fr-FR,fr;q=0.9,nl;q=0.5,en;q=0.4", "nl"),
    ("de, en;q=0", None),
    ("", None),
    (None, None),
    ("nl;q=abc, en", "en"),
])
def test_the_browser_language_is_the_most_preferred_one_the_coach_speaks(header, language):
    assert i18n.from_accept_language(header) == language
