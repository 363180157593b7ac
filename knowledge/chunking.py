"""Structure-aware chunking: split each section by its Markdown headings, then by size, never a table from its
header row.

A table quoted without its header row is a row of values nobody can read ("United Kingdom | Motorbike | 24p per
mile" means nothing without "Country | Vehicle | Rate"), so a table that fits a chunk stays whole, with the
sentence that leads into it when that fits too, and a longer table is split between rows, every piece starting
with the header row and its delimiter row. Everything else is split as before: at paragraphs, lines, sentences.
Headings are found line by line outside fenced code, and the text between them is kept as written (blank lines,
indentation), so chunks stay valid Markdown.

Chunk ids are derived from the source key, the locator and the text, so an unchanged chunk keeps its id (and its
stored embedding) across runs, and only new text is embedded again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter
from markdown_it import MarkdownIt

from knowledge.documents import ParsedDocument, describe_locator

HEADERS = [("#", "1"), ("##", "2"), ("###", "3"), ("####", "4")]
_HEADING = re.compile(r"^ {0,3}(#{1,4})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLES = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class PreparedChunk:
    id: str
    ordinal: int
    text: str
    index_text: str  # what embeddings and BM25 see: title, where it is, then the text
    locator: dict
    heading: str  # the title and heading path alone: embedded as its own field


@dataclass(frozen=True)
class _Table:
    header: str  # the header row and the delimiter row
    rows: list[str]


class Chunker:
    def __init__(self, chunk_size: int = 900, chunk_overlap: int = 120) -> None:
        self.signature = f"v3:{chunk_size}:{chunk_overlap}"  # part of each source's fingerprint
        self._size = chunk_size
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
            for headings, body in split_by_headings(section.text):
                locator = dict(section.locator)
                # a slide or lesson title repeated as its heading adds nothing to the locator
                headings = [h for h in headings if h not in (locator.get("lesson"), document.title)]
                if headings:
                    locator["heading"] = headings
                for text in self.pieces(body):
                    base = _digest(source_key, json.dumps(locator, sort_keys=True), text)
                    seen[base] = seen.get(base, 0) + 1
                    chunk_id = base if seen[base] == 1 else _digest(base, str(seen[base]))
                    where = describe_locator(locator)
                    header = document.title + (f" — {where}" if where else "")
                    heading = " › ".join(filter(None, [document.title, locator.get("lesson"), *locator.get("heading", [])]))
                    chunks.append(PreparedChunk(chunk_id, len(chunks), text, f"{header}\n{text}", locator, heading))
        return chunks

    def pieces(self, text: str) -> list[str]:
        """The chunk texts of one heading's body, in order."""
        text = text.strip()
        if len(text) <= self._size:
            return [text] if text else []
        pieces: list[str] = []
        after_text = False  # is pieces[-1] prose (a lead-in a table may join)?
        for block in _blocks(text):
            if isinstance(block, str):
                split = [piece.strip() for piece in self._sizes.split_text(block)]
                split = [piece for piece in split if piece]
                pieces.extend(split)
                after_text = after_text or bool(split)
                continue
            lead, whole = "", False
            if after_text:
                # the text just before the table (its caption or lead-in sentence) goes with the table's first
                # piece: the whole previous piece when it fits, else a copy of its last paragraph
                last = pieces[-1].rsplit("\n\n", 1)[-1]
                room = self._size - 2 - len(_table_text(block))
                if room < 0:  # the table is split anyway: keep a third of its first piece for a lead-in
                    room = self._size // 3
                if len(pieces[-1]) <= room:
                    lead, whole = pieces[-1], True
                elif len(last) <= room:
                    lead = last
            table = self._table_pieces(block, self._size - (len(lead) + 2 if lead else 0))
            if lead:
                if whole:
                    pieces.pop()
                table[0] = f"{lead}\n\n{table[0]}"
            pieces.extend(table)
            after_text = False
        return pieces

    def _table_pieces(self, table: _Table, first: int) -> list[str]:
        """The table whole if it fits, else runs of whole rows, each under a copy of the header row; `first` is
        the room in the first piece. A single row longer than a chunk is a piece of its own, never cut."""
        pieces: list[str] = []
        current: list[str] = []
        size = len(table.header)
        for row in table.rows:
            if current and size + 1 + len(row) > (self._size if pieces else first):
                pieces.append("\n".join([table.header, *current]))
                current, size = [], len(table.header)
            current.append(row)
            size += 1 + len(row)
        pieces.append("\n".join([table.header, *current]))  # a table of a header alone is one piece too
        return pieces


def split_by_headings(text: str) -> Iterator[tuple[list[str], str]]:
    """(heading path, body) for each stretch between `#`..`####` headings outside fenced code.

    The heading lines themselves are left out of the bodies; a heading with no body under it yields nothing,
    but still names the path of the headings below it.
    """
    path: dict[int, str] = {}
    body: list[str] = []
    fence = ""
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            body.append(line)
            continue
        if opening:
            fence = opening.group(1)
            body.append(line)
            continue
        heading = _HEADING.match(line)
        if heading and (heading.group(2) or "").strip():
            if "\n".join(body).strip():
                yield [path[level] for level in sorted(path)], "\n".join(body)
            body = []
            level = len(heading.group(1))
            path = {k: v for k, v in path.items() if k < level}
            path[level] = " ".join(heading.group(2).split())
            continue
        body.append(line)
    if "\n".join(body).strip():
        yield [path[level] for level in sorted(path)], "\n".join(body)


def _blocks(text: str) -> Iterator[str | _Table]:
    """The text as prose runs (str) and top-level GFM tables, in order."""
    lines = text.split("\n")
    start = 0
    for token in _TABLES.parse(text):
        if token.type != "table_open" or token.level != 0 or token.map is None:
            continue
        first, end = token.map
        if first > start:
            yield "\n".join(lines[start:first])
        header = "\n".join(line.strip() for line in lines[first:first + 2])
        rows = [line.strip() for line in lines[first + 2:end] if line.strip()]
        yield _Table(header, rows)
        start = end
    if start < len(lines):
        yield "\n".join(lines[start:])


def _table_text(table: _Table) -> str:
    return "\n".join([table.header, *table.rows])


def heading_id(source_id: str, heading: str) -> str:
    return _digest(source_id, heading)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
