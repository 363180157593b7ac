"""The competency framework L&D maintains: which competencies a question is about.

Keywords are given per language (`keywords: {en: [...], nl: [...]}`; a plain list is English) and matched as whole
words after that language's stemming, so a Dutch question is tagged like an English one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kernel.errors import ConfigError
from kernel.text import LANGUAGES, tokenize
from examples import COMPETENCIES as SAMPLE



@dataclass(frozen=True)
class Competency:
    id: str
    name: str
    keywords: tuple[tuple[str, tuple[str, ...]], ...]  # (language, the keyword's stemmed words)
    experts: tuple[str, ...] = ()  # people or channels to ask in person, kept by L&D


class Framework:
    def __init__(self, competencies: list[Competency]) -> None:
        self.competencies = competencies

    @classmethod
    def load(cls, path: Path | None = None) -> "Framework":
        path = path or SAMPLE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls([
                Competency(str(c["id"]), str(c.get("name", c["id"])), _keywords(c.get("keywords") or [], path),
                           tuple(str(e) for e in c.get("experts", [])))
                for c in data.get("competencies", [])
            ])
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ConfigError(f"The competency framework {path} cannot be read ({exc}); fix it or point "
                              "COACH_COMPETENCIES_FILE at a valid file (see examples/competencies.yaml)") from exc

    def name(self, competency: str) -> str:
        return next((c.name for c in self.competencies if c.id == competency), competency)

    def experts(self, competency: str) -> tuple[str, ...]:
        return next((c.experts for c in self.competencies if c.id == competency), ())

    def tag(self, text: str) -> list[str]:
        """Ids of the competencies with a keyword whose words all appear in the text (in the keyword's language), in
        framework order."""
        words = {language: tokenize(text, language) for language in LANGUAGES}
        present = {language: set(w) for language, w in words.items()}
        joined = {language: f" {' '.join(w)} " for language, w in words.items()}
        return [c.id for c in self.competencies
                if any(set(k) <= present[lang] and (len(k) == 1 or f" {' '.join(k)} " in joined[lang])
                       for lang, k in c.keywords)]


def _keywords(given, path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    by_language = given if isinstance(given, dict) else {LANGUAGES[0]: given}
    unknown = set(by_language) - set(LANGUAGES)
    if unknown:
        raise ConfigError(f"The competency framework {path} has keywords in {sorted(unknown)}; the coach serves "
                          f"{', '.join(LANGUAGES)}")
    return tuple((language, tuple(tokenize(str(k), language))) for language, keywords in by_language.items()
                 for k in keywords or [] if tokenize(str(k), language))
