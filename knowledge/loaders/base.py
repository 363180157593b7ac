"""What the format loaders share: turning bytes into text and a file name into a readable title."""

from __future__ import annotations

import codecs
import re
from pathlib import PurePosixPath

from knowledge.documents import CorruptFile

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def file_parts(name: str) -> PurePosixPath:
    """The upload's name as a path; browsers on Windows may send "C:\\fakepath\\file.pdf"."""
    return PurePosixPath(name.replace("\\", "/"))


def title_from_name(name: str) -> str:
    """A title when the file has none of its own: "expense-policy_v2.md" -> "Expense policy v2"."""
    words = re.sub(r"[-_.\s]+", " ", file_parts(name).stem).strip()
    return (words[:1].upper() + words[1:]) if words else "Untitled"


def decode_text(data: bytes, kind: str) -> str:
    """Decode a text upload: BOM first, then UTF-8, then Windows-1252 (what old editors on Windows write).

    A NUL byte outside UTF-16 means the file is binary under a text suffix, which would otherwise be
    indexed as noise.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _normalise(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise CorruptFile(f"{kind} file is not valid {encoding}: {exc.reason}; save it as UTF-8") from exc
    if b"\x00" in data:
        raise CorruptFile(f"{kind} file contains binary data, not text: check that you uploaded the right file")
    try:
        return _normalise(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _normalise(data.decode("cp1252", errors="replace"))


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
