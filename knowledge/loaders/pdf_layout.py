"""A PDF page's text as Markdown: tables as GFM tables, headings from font size, wrapped lines joined.

PDFium gives a page's text as the lines the typesetter broke it into, so a table comes out as run-on rows
("Country Vehicle Rate Netherlands Car, motorbike or bicycle EUR 0.23 per km ...") and a paragraph as a stack of
half sentences. pdfplumber (on pdfminer.six) gives every word with its position, font and size, and the ruling
lines of the page, which is what it takes to find tables and headings. It is pure Python, so `pdf.py` decides
beforehand, from PDFium's cheap counts, which pages are small enough to hand to it; everything here may fail on
a hostile page, and the caller falls back to PDFium's plain text for that page.

What is recognised, and what not:
- tables ruled on every side (the usual generator and Word export) via pdfplumber's lines strategy, and tables
  ruled by horizontal lines only, whose columns are the clear vertical gaps between the words. Tables with no
  rules at all are left as text: pdfplumber's text strategy finds "tables" in ordinary prose.
- headings: lines clearly larger than the document's body text, or short bold lines at body size.
- the page's words in content-stream order (what PDFium does too), so columns written one after the other stay
  apart.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pdfplumber

from knowledge.loaders.tables import markdown_table

# pdfplumber intersects every horizontal with every vertical edge: a page drawn from thousands of strokes
# (a chart, a map) would take minutes, and holds no table we could read anyway.
MAX_TABLE_EDGES = 1500

_BULLETS = "•●▪■◦‣∙·○◆◇►▶–—*-\uf0b7\uf0a7"
_BULLET = re.compile(rf"^[{re.escape(_BULLETS)}]\s*")
_NUMBERED = re.compile(r"^(\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])\s")
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’)\]]*$")
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)


@dataclass
class Line:
    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    bold: bool
    text_x0: float = 0.0  # where the text after a leading bullet or number starts
    margin: bool = False  # in the page's top or bottom margin


@dataclass
class TableBlock:
    markdown: str
    top: float
    bottom: float
    x0: float
    x1: float


Block = Line | TableBlock


def read_pages(data: bytes, wanted: Sequence[bool], page_count: int) -> list[str | None]:
    """Markdown for each wanted page, None where the page was not wanted or could not be read.

    `page_count` is PDFium's: if pdfminer sees a different page tree, pages cannot be matched up and none are
    read here (the caller keeps PDFium's text for all of them).
    """
    texts: list[str | None] = [None] * len(wanted)
    pages: list[tuple[int, list[Block]]] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception:  # pdfminer raises anything on a damaged file; PDFium already vouched for it
        return texts
    try:
        if len(pdf.pages) != page_count:
            return texts
        for index, want in enumerate(wanted):
            if not want:
                continue
            page = pdf.pages[index]
            try:
                pages.append((index, _without_margins_of(page, page_blocks(page))))
            except Exception:  # one damaged page costs its layout, not the document
                pass
            finally:
                page.close()
    except Exception:
        return texts
    finally:
        pdf.close()
    pages = _without_running_lines(pages)
    body = body_size([block for _, blocks in pages for block in blocks])
    tiers = heading_tiers([block for _, blocks in pages for block in blocks], body)
    for index, blocks in pages:
        texts[index] = render(blocks, body, tiers)
    return texts


def _without_margins_of(page, blocks: list[Block]) -> list[Block]:
    """Marks the lines in the page's top and bottom margin (where running headers and footers sit)."""
    margin = page.height * 0.1
    for block in blocks:
        if isinstance(block, Line):
            block.margin = block.bottom <= page.bbox[1] + margin or block.top >= page.bbox[3] - margin
    return blocks


def _without_running_lines(pages: list[tuple[int, list[Block]]]) -> list[tuple[int, list[Block]]]:
    """Drops running headers and footers: margin lines that recur, digits aside ("Page 3 of 6"), on at least
    three pages and half of them. They would lead into every page's first chunk and swamp keyword search."""
    def shape(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    counts = Counter(found for _, blocks in pages
                     for found in {shape(b) for b in blocks if isinstance(b, Line) and b.margin})
    running = {k for k, n in counts.items() if n >= 3 and n * 2 >= len(pages)}
    return [(index, [b for b in blocks if not (isinstance(b, Line) and b.margin and shape(b) in running)])
            for index, blocks in pages]


# --- one page into lines and tables -------------------------------------------------------------------------


def page_blocks(page) -> list[Block]:
    """The page's text lines and tables, in reading order, each table's words only in its table."""
    tables: list[TableBlock] = []
    if len(page.edges) <= MAX_TABLE_EDGES:
        for table in page.find_tables():
            block = _table_block(table.extract(), table.bbox)
            if block is not None:
                tables.append(block)
        tables.extend(_horizontally_ruled_tables(page, [(t.x0, t.top, t.x1, t.bottom) for t in tables]))
    boxes = [(t.x0, t.top, t.x1, t.bottom) for t in tables]
    text_page = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside_any(obj, boxes)) if boxes else page
    words = text_page.extract_words(use_text_flow=True, extra_attrs=["size", "fontname"])
    lines = _lines(words)
    blocks: list[Block] = list(lines)
    for table in sorted(tables, key=lambda t: t.top, reverse=True):
        at = next(
            (i for i, block in enumerate(blocks)
             if isinstance(block, Line) and block.top >= table.top - 1 and block.x0 < table.x1 and block.x1 > table.x0),
            len(blocks),
        )
        blocks.insert(at, table)
    return blocks


def _table_block(rows: list[list[str | None]], bbox) -> TableBlock | None:
    """A found table worth a Markdown table: two rows and two columns with text (a framed paragraph is not)."""
    filled = [row for row in rows if any((cell or "").strip() for cell in row)]
    columns = {i for row in filled for i, cell in enumerate(row) if (cell or "").strip()}
    if len(filled) < 2 or len(columns) < 2:
        return None
    x0, top, x1, bottom = bbox
    return TableBlock(markdown_table(filled), top, bottom, x0, x1)


def _horizontally_ruled_tables(page, taken: list[tuple]) -> list[TableBlock]:
    """Tables with rules between the rows and none between the columns (a "horizontal lines" layout).

    The columns are the vertical gaps that no word between the rules crosses. Such layouts often leave the
    first and last row without a rule of their own, so one row pitch above and below is taken in too when its
    words keep to the columns. The table counts only if most rows then have text in two columns or more.
    """
    rules = _rules(page, taken)
    found = []
    for (x0, x1), tops in rules.items():
        if len(tops) < 3:
            continue
        inner = page.crop(_clip(page, (x0 - 1, tops[0] - 1, x1 + 1, tops[-1] + 1)))
        words = inner.extract_words(extra_attrs=["size"])
        if not words:
            continue
        size = Counter(round(w["size"]) for w in words).most_common(1)[0][0]
        separators = _column_gaps(words, max(1.5 * size, 12.0))
        if not separators:
            continue
        pitch = sorted(b - a for a, b in zip(tops, tops[1:]))[len(tops) // 2 - 1]
        rows = list(tops)
        for edge in (tops[0] - pitch, tops[-1] + pitch):
            band = (x0 - 1, min(edge, rows[0]), x1 + 1, max(edge, rows[-1]))
            band_words = [w for w in page.crop(_clip(page, band)).extract_words()
                          if not (tops[0] - 1 <= (w["top"] + w["bottom"]) / 2 <= tops[-1] + 1)]
            columns = {sum(1 for sep in separators if sep < w["x0"]) for w in band_words}
            crossing = any(w["x0"] < sep < w["x1"] for w in band_words for sep in separators)
            if len(columns) >= 2 and not crossing:
                rows = sorted({*rows, edge})
        region = page.crop(_clip(page, (x0 - 1, rows[0] - 1, x1 + 1, rows[-1] + 1)))
        settings = {"vertical_strategy": "explicit", "horizontal_strategy": "explicit",
                    "explicit_vertical_lines": [x0, *separators, x1], "explicit_horizontal_lines": rows}
        for table in region.find_tables(settings):
            cells = table.extract()
            filled = [row for row in cells if any((c or "").strip() for c in row)]
            two_or_more = sum(1 for row in filled if sum(1 for c in row if (c or "").strip()) >= 2)
            if two_or_more * 2 < len(filled):
                continue
            block = _table_block(cells, table.bbox)
            if block is not None:
                found.append(block)
    return found


def _rules(page, taken: list[tuple]) -> dict[tuple[float, float], list[float]]:
    """Horizontal rules outside the tables already found, segments on one line joined, grouped by their span."""
    by_top: dict[float, list[tuple[float, float]]] = {}
    for edge in page.horizontal_edges:
        if not _inside_any(edge, taken):
            top = next((t for t in by_top if abs(t - edge["top"]) <= 1), round(edge["top"], 1))
            by_top.setdefault(top, []).append((edge["x0"], edge["x1"]))
    groups: dict[tuple[float, float], list[float]] = {}
    for top, segments in by_top.items():
        spans: list[list[float]] = []
        for seg_x0, seg_x1 in sorted(segments):
            if spans and seg_x0 <= spans[-1][1] + 3:
                spans[-1][1] = max(spans[-1][1], seg_x1)
            else:
                spans.append([seg_x0, seg_x1])
        for span_x0, span_x1 in spans:
            if span_x1 - span_x0 < 40:
                continue
            key = next((k for k in groups if abs(k[0] - span_x0) <= 3 and abs(k[1] - span_x1) <= 3),
                       (span_x0, span_x1))
            groups.setdefault(key, []).append(top)
    return {key: sorted(tops) for key, tops in groups.items()}


def _clip(page, bbox: tuple) -> tuple:
    x0, top, x1, bottom = bbox
    px0, ptop, px1, pbottom = page.bbox
    return (max(x0, px0), max(top, ptop), min(x1, px1), min(bottom, pbottom))


def _column_gaps(words: list[dict], min_gap: float) -> list[float]:
    spans = sorted((w["x0"], w["x1"]) for w in words)
    gaps = []
    end = spans[0][1]
    for start, stop in spans[1:]:
        if start - end >= min_gap:
            gaps.append((start + end) / 2)
        end = max(end, stop)
    return gaps


def _inside_any(obj: dict, boxes: list[tuple]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 - 1 <= x <= x1 + 1 and top - 1 <= y <= bottom + 1 for x0, top, x1, bottom in boxes)


def _lines(words: list[dict]) -> list[Line]:
    """Words (in content-stream order) into lines: a new line when a word is not level with the current one,
    or starts left of where the current one ended."""
    lines: list[list[dict]] = []
    for word in words:
        current = lines[-1] if lines else None
        if current is not None:
            last = current[-1]
            middle = (word["top"] + word["bottom"]) / 2
            level = min(w["top"] for w in current) - 0.5 <= middle <= max(w["bottom"] for w in current) + 0.5
            if level and word["x0"] >= last["x1"] - 1:
                current.append(word)
                continue
        lines.append([word])
    return [_line(group) for group in lines]


def _line(words: list[dict]) -> Line:
    parts = [words[0]["text"]]
    for previous, word in zip(words, words[1:]):
        # a font change inside a word splits it in two; a real space is wider than a sliver
        joined = word["x0"] - previous["x1"] < 0.15 * min(word["size"], previous["size"])
        parts.append(word["text"] if joined else " " + word["text"])
    weights: Counter = Counter()
    bold = 0
    for word in words:
        weights[round(word["size"] * 2) / 2] += len(word["text"])
        bold += len(word["text"]) if _BOLD.search(word.get("fontname") or "") else 0
    total = sum(weights.values()) or 1
    return Line(
        text="".join(parts),
        top=min(w["top"] for w in words),
        bottom=max(w["bottom"] for w in words),
        x0=min(w["x0"] for w in words),
        x1=max(w["x1"] for w in words),
        size=weights.most_common(1)[0][0],
        bold=bold * 10 >= total * 9,
        text_x0=words[1]["x0"] if len(words) > 1 and _is_marker(words[0]["text"]) else words[0]["x0"],
    )


def _is_marker(word: str) -> bool:
    return (len(word) == 1 and word in _BULLETS) or bool(_NUMBERED.match(word + " "))


# --- the document's styles -----------------------------------------------------------------------------------


def body_size(blocks: list[Block]) -> float:
    """The font size most of the text is set in."""
    weights: Counter = Counter()
    for block in blocks:
        if isinstance(block, Line):
            weights[block.size] += len(block.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _heading_tier(line: Line, body: float) -> int:
    """1 for title-sized lines, 2 for clearly larger ones, 3 for short bold lines at body size; 0: not a heading."""
    text = line.text
    if body <= 0 or len(text) > 120 or not any(ch.isalpha() for ch in text) or _BULLET.match(text):
        return 0
    if line.size >= body * 1.6:
        return 1
    if line.size >= body * 1.25:
        return 2
    if line.size >= body * 1.08 or (line.bold and line.size >= body * 0.95):
        return 0 if len(text) > 80 or re.search(r"[.,;:]$", text) else 3
    return 0


def heading_tiers(blocks: list[Block], body: float) -> dict[int, int]:
    """The tiers this document uses, renumbered from 1 (a document without a title-sized line starts at #)."""
    used = sorted({tier for block in blocks if isinstance(block, Line) and (tier := _heading_tier(block, body))})
    return {tier: level for level, tier in enumerate(used, start=1)}


# --- rendering ------------------------------------------------------------------------------------------------


def _is_list_item(text: str) -> bool:
    return bool(_BULLET.match(text) and len(text) > 1) or bool(_NUMBERED.match(text))


def render(blocks: list[Block], body: float, tiers: dict[int, int]) -> str:
    """Blocks as Markdown: `#` headings, paragraphs with their wrapped lines joined, `- ` list items, tables."""
    out: list[str] = []  # finished blocks, joined by blank lines
    para: list[str] = []  # lines of the paragraph or list being built, joined by single newlines
    last: Line | None = None  # the last line added to `para`
    item_x0 = 0.0  # where the current list item's text starts (its continuation lines start there too)
    heading: tuple[int, Line] | None = None

    def flush() -> None:
        nonlocal para, last, heading
        if heading is not None:
            out.append("#" * heading[0] + " " + heading[1].text)
            heading = None
        if para:
            out.append("\n".join(para))
        para, last = [], None

    for block in blocks:
        if isinstance(block, TableBlock):
            flush()
            out.append(block.markdown)
            continue
        tier = tiers.get(_heading_tier(block, body), 0)
        if tier:
            if heading is not None and heading[0] == tier and block.top - heading[1].bottom < block.size * 0.8:
                heading = (tier, _merged(heading[1], block))  # a heading wrapped onto a second line
                continue
            flush()
            heading = (tier, block)
            continue
        if heading is not None:
            flush()
        text = block.text
        bullet = _BULLET.match(text)
        is_item = _is_list_item(text)
        if bullet and len(text) > 1:
            text = "- " + text[bullet.end():]
        gap = block.bottom - last.bottom if last is not None else 0.0
        same_flow = last is not None and abs(block.size - last.size) <= 0.6 and 0 < gap <= max(block.size, last.size) * 1.9
        if same_flow and not is_item and _continues(last, block, item_x0):
            para[-1] = _join(para[-1], text)
            last = block
            continue
        if last is not None and not same_flow:
            flush()
        item_x0 = block.text_x0 if is_item else 0.0
        para.append(text)
        last = block
    flush()
    return "\n\n".join(part for part in out if part.strip())


def _continues(previous: Line, line: Line, item_x0: float) -> bool:
    """Does `line` carry on the sentence (or list item) that `previous` broke off?"""
    if item_x0 and line.x0 >= item_x0 - 2:
        return True  # a list item's wrapped line, indented to its text
    return not _SENTENCE_END.search(previous.text)


def _join(text: str, continuation: str) -> str:
    if text.endswith("-") and continuation[:1].islower():
        return text + continuation  # "pre-" + "approved": a compound broken at its hyphen
    return f"{text} {continuation}"


def _merged(first: Line, second: Line) -> Line:
    return Line(f"{first.text} {second.text}", first.top, second.bottom, min(first.x0, second.x0),
                max(first.x1, second.x1), first.size, first.bold and second.bold)
