"""The competency framework tags questions in English and Dutch, each keyword matched after its own language's
stemming; a file with a language the coach does not serve is refused with what to do."""

from __future__ import annotations

import pytest

from coach.competencies import Framework
from kernel.errors import ConfigError


def test_the_sample_framework_tags_dutch_questions_like_english_ones():
    framework = Framework.load()
    assert framework.tag("wat is het kilometertarief?") == framework.tag("How do I claim mileage?") == ["expenses"]
    assert framework.tag("Hoe vraag ik een reiskostenvergoeding aan?") == ["expenses"]
    assert framework.tag("Ik ben mijn wachtwoord vergeten") == ["information-security"]
    assert framework.tag("Hoe meld ik een phishingmail?") == ["information-security"]
    assert framework.tag("Wat eten we vandaag?") == []


def test_keywords_per_language_match_after_that_languages_stemming(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text("competencies:\n"
                    "  - id: expenses\n    keywords:\n      en: [expense claim]\n      nl: [declaratie]\n"
                    "  - id: onboarding\n    keywords: [first week]\n")
    framework = Framework.load(path)
    assert framework.tag("Waar dien ik mijn declaraties in?") == ["expenses"]  # Dutch plural, Dutch stem
    assert framework.tag("two expense claims") == ["expenses"]
    assert framework.tag("my first weeks here") == ["onboarding"]  # a plain list is English
    assert framework.tag("expense") == []  # every word of a keyword is needed


def test_a_language_the_coach_does_not_serve_is_refused(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text("competencies:\n  - id: expenses\n    keywords:\n      fr: [note de frais]\n")
    with pytest.raises(ConfigError, match="keywords in \\['fr'\\]"):
        Framework.load(path)
