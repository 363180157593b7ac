"""How much a single upload may cost us: the limits every loader and the zip checks enforce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile or careless upload from exhausting memory or disk.

    `max_file_bytes` is the size of the uploaded file itself (setting `COACH_MAX_UPLOAD_MB`); the archive
    limits apply to every zip we open (SCORM packages, and DOCX/PPTX, which are zips too).
    """

    max_file_bytes: int = 50 * 1024 * 1024
    max_archive_entries: int = 2000
    max_archive_bytes: int = 200 * 1024 * 1024  # total uncompressed
    max_compression_ratio: float = 100.0


def human_size(n: int) -> str:
    """Sizes in messages people read: "50 MB", "1.5 KB"."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"
