"""Structure-aware chunking: split each section by its Markdown headings, then by size.

Chunk ids are derived from the source key, the locator and the text, so an unchanged chunk keeps its id (and its
stored embedding) across runs, and only new text is embedded again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge.documents import ParsedDocument, describe_locator

HEADERS = [("#", "1"), ("##", "2"), ("###", "3"), ("####", "4")]


@dataclass(frozen=True)
class PreparedChunk:
    id: str
    ordinal: int
    text: str
    index_text: str  # what embeddings and BM25 see: title, where it is, then the text
    locator: dict
    heading: str  # the title and heading path alone: embedded as its own field


class Chunker:
    def __init__(self, chunk_size: int = 900, chunk_overlap: int = 120) -> None:
        self.signature = f"v2:{chunk_size}:{chunk_overlap}"  # part of each source's fingerprint
        self._headings = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True)
        self._sizes = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
        )

    def chunk(self, source_key: str, document: ParsedDocument) -> list[PreparedChunk]:
        chunks: list[PreparedChunk] = []
        seen: dict[str, int] = {}
        for section in document.sections:
            for part in self._headings.split_text(section.text):
                headings = [part.metadata[level] for _, level in HEADERS if level in part.metadata]
                locator = dict(section.locator)
                if headings:
                    # a slide or lesson title repeated as its heading adds nothing to the locator
                    headings = [h for h in headings if h not in (locator.get("lesson"), document.title)]
                    if headings:
                        locator["heading"] = headings
                for piece in self._sizes.split_text(part.page_content):
                    text = piece.strip()
                    if not text:
                        continue
                    base = _digest(source_key, json.dumps(locator, sort_keys=True), text)
                    seen[base] = seen.get(base, 0) + 1
                    chunk_id = base if seen[base] == 1 else _digest(base, str(seen[base]))
                    where = describe_locator(locator)
                    header = document.title + (f" — {where}" if where else "")
                    heading = " › ".join(filter(None, [document.title, locator.get("lesson"), *locator.get("heading", [])]))
                    chunks.append(PreparedChunk(chunk_id, len(chunks), text, f"{header}\n{text}", locator, heading))
        return chunks


def heading_id(source_id: str, heading: str) -> str:
    return _digest(source_id, heading)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
