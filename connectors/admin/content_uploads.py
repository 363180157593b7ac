"""Files uploaded in the web admin, into the knowledge base by the same road as `coach ingest`.

Each file is written under the data folder (never the system's shared temp folder, never under the name's path:
only a cleaned base name inside a folder of its own, so no upload can name or overwrite another file), ingested by
`KnowledgeBase.ingest_file` with every check the command line has (size, format, corrupt, encrypted, zip bombs,
path traversal), and removed afterwards. An upload's source is keyed by its file name (`upload:NAME`): uploading a
file of the same name again updates that source, or leaves it unchanged.

Ingestion runs in a worker thread (the callers use `run_in_threadpool`), one file at a time per process, so two
admins uploading together never race on one source and the event loop keeps serving pages.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Iterable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from coach import accounts
from kernel.errors import CoachError
from coach.lessons.authoring import is_lesson_file
from knowledge.ingest import FileOutcome, IngestReport
from knowledge.metadata import SourceMeta, normalize_groups

UPLOAD_KEY = "upload:"
MAX_FILES = 200  # per request; the page sends one file per request, the API and the plain form a batch
_STALE_S = 24 * 3600  # a folder left behind by a crash mid-upload is cleared by a later upload
_ONE_AT_A_TIME = threading.Lock()
STATUS_WORDS = {"failed": "refused"}  # what L&D reads for the knowledge base's "failed": the file was turned away


class FormProblem(CoachError):
    """A form or API field that cannot be used as given (an unknown competency, a bad group name)."""


@dataclass(frozen=True)
class Received:
    """A file as it arrived: the name the browser sent (untrusted) and its bytes (spooled by Starlette)."""

    client_name: str
    stream: BinaryIO


def safe_name(client_name: str) -> str:
    """The base name only ("C:\\fakepath\\a.pdf" and "../../a.pdf" both give "a.pdf"), letters, digits and a few
    marks, no leading dot, at most 120 characters with the suffix kept (it picks the loader)."""
    base = unicodedata.normalize("NFC", client_name.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._") or "upload"
    if len(base) > 120:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: 119 - len(suffix)] + dot + suffix) if dot and len(suffix) <= 10 else base[:120]
    return base


def upload_key(name: str) -> str:
    return UPLOAD_KEY + name


def form_meta(framework, *, audience: str | Iterable[str] = "", competencies: str | Iterable[str] = "",
              owner: str = "") -> SourceMeta:
    """The metadata a form or an API call gives a batch: audience groups (none: everyone), competency ids from the
    framework, an owner. Raises FormProblem with a sentence to show."""
    try:
        groups, tags = normalize_groups(audience), normalize_groups(competencies)
    except CoachError as exc:
        raise FormProblem(str(exc)) from exc
    known = [c.id for c in framework.competencies]
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise FormProblem(f"Unknown competency {', '.join(unknown)}: choose from {', '.join(known)} (the competency "
                          "framework, COACH_COMPETENCIES_FILE).")
    owner = owner.strip()
    if len(owner) > 200:
        raise FormProblem("The owner is longer than 200 characters.")
    return SourceMeta(audience=groups, competencies=tags, owner=owner or None)


def received(form_files: list) -> list[Received]:
    """The file parts of a parsed multipart form (a plain field under the same name is not a file: skipped)."""
    return [Received(part.filename or "", part.file) for part in form_files if isinstance(part, UploadFile)]


def ingest_uploads(knowledge, data_dir: Path, files: list[Received], meta: SourceMeta, *,
                   key: str | None = None) -> IngestReport:
    """Write, ingest and remove each file; a report like `coach ingest`'s, each outcome's `path` being the file's
    clean name. `key` (replacing one source): the source every file is stored as (then only one file is taken).
    Blocking: call it from a worker thread."""
    root = data_dir / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    _clear_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="batch-", dir=root))
    report, seen = IngestReport(), set()
    try:
        with knowledge.ingestor.batch():  # listeners (content gaps) hear once, after the whole batch
            for n, upload in enumerate(files, start=1):
                name = safe_name(upload.client_name)
                if name in seen:
                    report.outcomes.append(FileOutcome(name, "failed", "another file in this upload has the same "
                                                       "name: rename one of them and upload it again"))
                    continue
                seen.add(name)
                report.outcomes.append(_ingest_one(knowledge, folder / f"{n:04d}", name, upload.stream, meta, key))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _ingest_one(knowledge, folder: Path, name: str, stream: BinaryIO, meta: SourceMeta,
                key: str | None) -> FileOutcome:
    folder.mkdir()
    path = folder / name
    stream.seek(0)
    with path.open("xb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    if is_lesson_file(path):
        return FileOutcome(name, "failed", "this is a micro-lesson (Markdown with a quiz in its front matter): "
                                           "upload it under Lessons")
    with _ONE_AT_A_TIME:
        outcome = knowledge.ingest_file(path, meta, key=key or upload_key(name))
    path.unlink(missing_ok=True)
    return replace(outcome, path=name)


def _clear_stale(root: Path) -> None:
    cutoff = time.time() - _STALE_S
    for folder in root.glob("batch-*"):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def outcome_json(outcome: FileOutcome) -> dict:
    """One file's result for the API and the page's script: file, status (added, updated, unchanged, refused),
    reason, source id, chunks."""
    return {"file": outcome.path, "status": STATUS_WORDS.get(outcome.status, outcome.status),
            "reason": outcome.reason, "source_id": outcome.source_id, "chunks": outcome.chunks}


def summary_json(report: IngestReport) -> dict[str, int]:
    return {STATUS_WORDS.get(status, status): count for status, count in report.summary().items()}


async def ingest_audited(container, files: list[Received], meta: SourceMeta, *, actor: str, address: str,
                         key: str | None = None, replacing: str = "") -> IngestReport:
    """`ingest_uploads` off the event loop, then what it changed (or refused) in the audit log, under `actor`.
    Replacing a source: its `key` and id (`replacing`)."""
    def work() -> IngestReport:
        report = ingest_uploads(container.knowledge, container.settings.data_dir, files, meta, key=key)
        audit_outcomes(container.engine, report.outcomes, actor=actor, address=address, replacing=replacing)
        return report

    return await run_in_threadpool(work)


def audit_outcomes(engine, outcomes: Iterable[FileOutcome], *, actor: str, address: str, replacing: str = "") -> None:
    """Each file that changed the base, or was turned away, in the audit log (unchanged files changed nothing)."""
    for outcome in outcomes:
        if outcome.status == "unchanged":
            continue
        action = {"added": "source-added", "updated": "source-replaced" if replacing else "source-updated"}.get(
            outcome.status, "source-refused")
        target = f"{outcome.source_id or replacing} {outcome.path}".strip()
        detail = outcome.reason or f"{outcome.chunks} chunks"
        accounts.audit(engine, actor=actor, action=action, target=target, address=address, detail=detail)
