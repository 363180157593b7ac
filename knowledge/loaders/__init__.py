"""Turning an uploaded file into a `ParsedDocument`: pick the loader by suffix, enforce the size limits,
and refuse files with no text, so every caller gets either usable sections or a `DocumentError` that says
what to do next.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from knowledge.documents import DocumentError, EmptyDocument, ParsedDocument, TooLarge, UnsupportedFormat
from knowledge.loaders import docx, html, markdown, pdf, pptx, scorm, text, transcript
from knowledge.loaders.base import file_parts
from knowledge.loaders.limits import Limits, human_size

__all__ = ["Limits", "SUPPORTED_SUFFIXES", "load_bytes", "load_file", "read_file"]

Loader = Callable[[bytes, str, Limits], ParsedDocument]

_LOADERS: dict[str, Loader] = {
    ".md": markdown.load,
    ".markdown": markdown.load,
    ".txt": text.load,
    ".html": html.load,
    ".htm": html.load,
    ".pdf": pdf.load,
    ".docx": docx.load,
    ".pptx": pptx.load,
    ".vtt": transcript.load,
    ".srt": transcript.load,
    ".zip": scorm.load,
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_LOADERS)


def load_file(path: Path, limits: Limits = Limits()) -> ParsedDocument:
    """Load a file from disk; its format and size are checked before a byte is read."""
    return load_bytes(path.name, read_file(path, limits), limits)


def read_file(path: Path, limits: Limits = Limits()) -> bytes:
    """The bytes of a supported file within the size limit (for hashing before parsing)."""
    _loader_for(path.name)  # refuse an unsupported format before touching the file
    try:
        size = path.stat().st_size
        _check_size(path.name, size, limits)
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DocumentError(f"{path.name} cannot be read ({reason}): check the path and permissions") from exc
    _check_size(path.name, len(data), limits)
    return data


def load_bytes(name: str, data: bytes, limits: Limits = Limits()) -> ParsedDocument:
    """Load an upload; `name` is the file name it came with, and its suffix picks the format."""
    loader = _loader_for(name)
    _check_size(name, len(data), limits)
    document = loader(data, name, limits)
    document.sections = [section for section in document.sections if section.text.strip()]
    if not document.sections:
        raise EmptyDocument(f"{file_parts(name).name} contains no text: check that you uploaded the right file")
    return document


def _loader_for(name: str) -> Loader:
    suffix = file_parts(name).suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        kind = f"{suffix} files are" if suffix else "files without a suffix are"
        raise UnsupportedFormat(
            f"{kind} not supported: upload one of {', '.join(sorted(SUPPORTED_SUFFIXES))} "
            "(convert other formats to PDF or DOCX first)"
        )
    return loader


def _check_size(name: str, size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise TooLarge(
            f"{file_parts(name).name} is {human_size(size)}, over the {human_size(limits.max_file_bytes)} upload "
            "limit: split it into smaller files, or raise the limit with the setting COACH_MAX_UPLOAD_MB"
        )
