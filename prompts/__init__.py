"""Prompt templates kept as files, versioned by name: `answer.v1.md` is template "answer", version "v1".

A changed prompt is a new file (answer.v2.md), so every recorded model exchange names the exact text it used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
_NAME = re.compile(r"^(?P<name>[a-z_]+)\.(?P<version>v\d+)\.md$")


@dataclass(frozen=True)
class Template:
    name: str
    version: str
    text: str

    def render(self, **values: str) -> str:
        return self.text.format(**values)


def load(name: str, version: str | None = None) -> Template:
    """The given version of a template, or its newest one."""
    found = {m["version"]: path for path in FOLDER.glob(f"{name}.v*.md") if (m := _NAME.match(path.name))}
    if not found:
        raise FileNotFoundError(f"no prompt template named {name!r} in {FOLDER}")
    version = version or max(found, key=lambda v: int(v[1:]))
    return Template(name, version, found[version].read_text(encoding="utf-8"))
