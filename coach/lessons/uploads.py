"""Authored lesson files uploaded through the web admin, loaded exactly as `coach lessons load` loads them
(`authoring.load_lessons`, then `catalog.save`: approved on load), with one result per file.

An upload is untrusted input from a browser: only the file's own name is kept (no folders, so no path tricks), each
file is size-capped before it is parsed, and a lesson id used by two files of one upload keeps the first."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import Engine

from coach.lessons import catalog
from coach.lessons.authoring import MAX_BODY, load_lessons

SUFFIXES = (".md", ".markdown")
MAX_FILE_BYTES = 16 * MAX_BODY  # the body is at most 2,000 characters; room for front matter and UTF-8
MAX_FILES = 200


@dataclass(frozen=True)
class FileResult:
    name: str  # the file's name as uploaded, without folders
    outcome: str  # added | updated | unchanged | refused
    key: str = ""  # the lesson's key, when it was read
    reason: str = ""  # why it was refused: what to fix


def safe_name(name: str) -> str:
    """The uploaded name without any folder part (browsers send folders from a dropped directory, some with \\)."""
    return PurePosixPath((name or "").replace("\\", "/")).name.replace("\x00", "").strip()


def load_files(engine: Engine, files: list[tuple[str, bytes]], competencies: set[str] | None) -> list[FileResult]:
    """Each (name, content) as an authored lesson, in the order given; `competencies`: the framework's ids."""
    results: list[FileResult] = []
    accepted: dict[str, int] = {}  # lesson key -> the index of the result of the file that brought it
    specs = []
    seen_names: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="coach-lessons-") as folder:
        for number, (raw_name, content) in enumerate(files):
            name = safe_name(raw_name)
            refusal = _refusal(name, content, seen_names, number)
            if refusal:
                results.append(FileResult(name or "(no name)", "refused", reason=refusal))
                continue
            seen_names.add(name.casefold())
            path = Path(folder) / str(number) / name  # its own folder: the name (and so the default key) is kept
            path.parent.mkdir()
            path.write_bytes(content)
            found, problems = load_lessons(path, competencies)
            if problems:
                results.append(FileResult(name, "refused", reason="; ".join(p for e in problems for p in e.problems)))
                continue
            spec = found[0]
            if spec.key in accepted:
                first = results[accepted[spec.key]].name
                results.append(FileResult(name, "refused", spec.key, f"the id `{spec.key}` is already used by {first} "
                                                                     "in this upload; give this lesson its own `id`"))
                continue
            accepted[spec.key] = len(results)
            results.append(FileResult(name, "", spec.key))
            specs.append(spec)
    outcome = catalog.save(engine, specs) if specs else {}
    return [FileResult(r.name, outcome[r.key], r.key) if r.outcome == "" else r for r in results]


def _refusal(name: str, content: bytes, seen: set[str], number: int) -> str:
    if number >= MAX_FILES:
        return f"more than {MAX_FILES} files in one upload: upload the rest separately"
    if not name or name in (".", "..") or name.startswith("."):
        return "the file has no usable name"
    if not name.lower().endswith(SUFFIXES):
        return "not a lesson file: lessons are Markdown files ending in .md (see examples/lessons/README.md)"
    if name.casefold() in seen:
        return "another file in this upload has the same name"
    if len(content) > MAX_FILE_BYTES:
        return (f"{len(content):,} bytes, more than {MAX_FILE_BYTES:,}: a micro-lesson is one idea, about 1,000 "
                "characters")
    if not content.strip():
        return "the file is empty"
    return ""
