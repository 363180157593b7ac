"""The competency framework L&D maintains: which competencies a question is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kernel.errors import ConfigError
from kernel.text import tokenize
from examples import COMPETENCIES as SAMPLE



@dataclass(frozen=True)
class Competency:
    id: str
    name: str
    keywords: tuple[tuple[str, ...], ...]  # each keyword as its stemmed words
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
                Competency(str(c["id"]), str(c.get("name", c["id"])),
                           tuple(tuple(tokenize(str(k))) for k in c.get("keywords", []) if tokenize(str(k))),
                           tuple(str(e) for e in c.get("experts", [])))
                for c in data.get("competencies", [])
            ])
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ConfigError(f"The competency framework {path} cannot be read ({exc}); fix it or point "
                              "COACH_COMPETENCIES_FILE at a valid file (see examples/competencies.yaml)") from exc

    def experts(self, competency: str) -> tuple[str, ...]:
        return next((c.experts for c in self.competencies if c.id == competency), ())

    def tag(self, text: str) -> list[str]:
        """Ids of the competencies whose keywords all appear in the text, in framework order."""
        words = tokenize(text)
        present = set(words)
        joined = f" {' '.join(words)} "
        return [c.id for c in self.competencies
                if any(set(k) <= present and (len(k) == 1 or f" {' '.join(k)} " in joined) for k in c.keywords)]
