"""Plain-text files: one section, titled by a short first line when the author wrote one."""

from __future__ import annotations

from knowledge.documents import ParsedDocument, Section
from knowledge.loaders.base import decode_text, title_from_name
from knowledge.loaders.limits import Limits

_MAX_TITLE_CHARS = 80


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    text = decode_text(data, "Text").strip()
    first_line = text.split("\n", 1)[0].strip()
    title = first_line if 0 < len(first_line) <= _MAX_TITLE_CHARS else title_from_name(name)
    return ParsedDocument(title=title, doc_type="text", sections=[Section(text)])
