"""Zip archives from uploads (SCORM packages, and DOCX/PPTX, which are zips too), opened defensively.

Everything is decided from the central directory BEFORE any member is decompressed: too many entries, a
declared size or compression ratio that spells a zip bomb, names that would escape a folder if anyone ever
extracted them, symlinks. Members are then read into memory with a cap at their declared size, so a header
that lies about the size cannot blow memory either. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.documents import CorruptFile, EncryptedFile, UnsafeArchive
from knowledge.loaders.limits import human_size

if TYPE_CHECKING:
    from knowledge.loaders.limits import Limits

# Tiny, repetitive files (a page of spaces) compress far beyond any ratio limit and are harmless;
# the ratio check only applies once an entry, or the archive, inflates past this size.
_RATIO_FLOOR_BYTES = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class SafeZip:
    """A zip archive whose central directory passed the checks; read members with `read`."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        self._infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}

    def names(self) -> list[str]:
        return list(self._infos)

    def read(self, name: str) -> bytes:
        """The member's bytes, never more than its header declared (already checked against the limits).

        zipfile stops at the declared size and checks the CRC there, so a header that understates the size
        ends in CorruptFile instead of more bytes.
        """
        info = self._infos[name]
        try:
            with self._zip.open(info) as member:
                return member.read(info.file_size)
        except RuntimeError as exc:  # zipfile's way of saying "password required"
            raise EncryptedFile(f"archive entry {name!r} is encrypted: upload the package without a password") from exc
        except NotImplementedError as exc:
            raise CorruptFile(f"archive entry {name!r} uses an unsupported compression ({exc}): re-zip it") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise CorruptFile(f"archive entry {name!r} is damaged ({exc}): create the zip again") from exc

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_safe_zip(source: bytes | Path, limits: Limits) -> SafeZip:
    """Open and vet a zip from bytes or a path; raise UnsafeArchive naming the entry that failed a check."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise CorruptFile(f"the file is not a valid zip archive ({exc}): create it again and upload it") from exc
    try:
        _check_entries(archive.infolist(), limits)
    except Exception:
        archive.close()
        raise
    return SafeZip(archive)


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Judge the archive by what its central directory declares; nothing has been decompressed yet."""
    if len(infos) > limits.max_archive_entries:
        raise UnsafeArchive(
            f"archive has {len(infos)} entries, more than the {limits.max_archive_entries} allowed: "
            "remove unneeded files from the package"
        )
    total = compressed = 0
    for info in infos:
        _check_name(info)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchive(f"archive entry {info.filename!r} is a symbolic link: links are not allowed in uploads")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
            raise UnsafeArchive(
                f"archive entry {info.filename!r} inflates {ratio:.0f}:1, "
                f"beyond the {limits.max_compression_ratio:g}:1 allowed (a zip bomb?): upload the original files"
            )
        total += info.file_size
        compressed += info.compress_size
        if total > limits.max_archive_bytes:
            raise UnsafeArchive(
                f"archive unpacks to more than {human_size(limits.max_archive_bytes)} (reached at entry "
                f"{info.filename!r}): split the content into smaller packages"
            )
    ratio = total / max(compressed, 1)
    if total > _RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
        raise UnsafeArchive(
            f"archive inflates {ratio:.0f}:1 overall, beyond the "
            f"{limits.max_compression_ratio:g}:1 allowed (a zip bomb?): upload the original files"
        )


def _check_name(info: zipfile.ZipInfo) -> None:
    """Refuse names that would land outside the target folder on any OS if the archive were ever extracted."""
    name = info.orig_filename
    parts = re.split(r"[\\/]", name)
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts:
        raise UnsafeArchive(f"archive entry {name!r} points outside the package: path traversal is not allowed")
