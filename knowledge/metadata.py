"""What L&D says about a source: title, audience, owner, competency tags.

Set on the command line (defaults for the batch) and in sidecar files next to the content: `<file>.meta.yaml` for
one file, `_meta.yaml` for every file in its folder. The sidecar is attached to the content, so it wins over the
command line: ingesting a folder with `--audience everyone` can never widen a file marked `audience: [managers]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.documents import DocumentError
from knowledge.models import EVERYONE

SIDECAR_SUFFIX = ".meta.yaml"
FOLDER_SIDECAR = "_meta.yaml"
_GROUP = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SourceMeta:
    title: str | None = None
    audience: tuple[str, ...] = ()
    owner: str | None = None
    competencies: tuple[str, ...] = ()
    link: str | None = None

    def over(self, base: "SourceMeta") -> "SourceMeta":
        """This metadata where it says something, `base` elsewhere."""
        return SourceMeta(
            title=self.title or base.title,
            audience=self.audience or base.audience,
            owner=self.owner or base.owner,
            competencies=self.competencies or base.competencies,
            link=self.link or base.link,
        )

    @property
    def audience_or_everyone(self) -> list[str]:
        return list(self.audience) or [EVERYONE]


def normalize_groups(values) -> tuple[str, ...]:
    groups = []
    for value in [values] if isinstance(values, str) else values or []:
        for name in str(value).split(","):
            name = name.strip().lower()
            if not name:
                continue
            if not _GROUP.match(name):
                raise DocumentError(
                    f"'{name}' is not a valid audience or tag: use lowercase letters, digits, '-', '_' or '.'"
                )
            groups.append(name)
    return tuple(dict.fromkeys(groups))


def parse_meta(data: dict, origin: str) -> SourceMeta:
    if not isinstance(data, dict):
        raise DocumentError(f"{origin}: a sidecar must be a YAML mapping (title, audience, owner, competencies)")
    unknown = set(data) - {"title", "audience", "owner", "competencies", "link"}
    if unknown:
        raise DocumentError(f"{origin}: unknown keys {sorted(unknown)}; allowed: title, audience, owner, competencies, link")
    return SourceMeta(
        title=str(data["title"]).strip() if data.get("title") else None,
        audience=normalize_groups(data.get("audience")),
        owner=str(data["owner"]).strip() if data.get("owner") else None,
        competencies=normalize_groups(data.get("competencies")),
        link=str(data["link"]).strip() if data.get("link") else None,
    )


def read_sidecars(path: Path) -> SourceMeta:
    """The file's own sidecar over its folder's `_meta.yaml` (either may be missing)."""
    meta = SourceMeta()
    for sidecar in (path.with_name(path.name + SIDECAR_SUFFIX), path.parent / FOLDER_SIDECAR):
        if sidecar.is_file():
            try:
                data = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise DocumentError(f"{sidecar.name} is not valid YAML ({exc}); fix it and ingest again") from exc
            meta = meta.over(parse_meta(data, sidecar.name))
    return meta


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX) or path.name == FOLDER_SIDECAR
