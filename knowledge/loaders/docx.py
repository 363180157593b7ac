"""Word documents: body paragraphs and tables in reading order, with Word's headings kept as `#` lines.

Headings are recognised only by their style ("Heading N"), which is what Word's navigation pane uses too;
bold "fake" headings stay body text. Tables become GFM tables with their first row as the header. List
paragraphs become `- ` items, or `1.` items when their list is numbered (a "List Number" style, or Word's
numbering definition says so). Text boxes, headers, footers and footnotes are not read.
"""

from __future__ import annotations

import io

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.documents import CorruptFile, ParsedDocument, Section
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits
from knowledge.loaders.office import check_office_package
from knowledge.loaders.tables import markdown_table

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_UNORDERED = {"bullet", "none", ""}


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    check_office_package(data, "DOCX", limits)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        core_title = (document.core_properties.title or "").strip()
    # python-docx raises whatever its zip, XML and package layers raise; for an upload all mean "unreadable".
    except Exception as exc:
        raise CorruptFile(
            f"DOCX cannot be read ({exc}): open it in Word, save it again as .docx and upload it"
        ) from exc
    formats = _numbering_formats(document)
    title = ""
    lines: list[str] = []
    counters: dict[tuple, int] = {}  # the running number of each numbered list, reset by anything else
    for block in blocks:
        if isinstance(block, Table):
            lines.append(_table_text(block))
            counters.clear()
        elif _style_name(block) == "Title" and not title:
            title = block.text.strip()
        else:
            lines.append(_paragraph_text(block, formats, counters))
    text = _join_blocks([line for line in lines if line.strip()])
    return ParsedDocument(title=title or core_title or title_from_name(name), doc_type="docx", sections=[Section(text)])


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return style.name if style is not None and style.name else ""


def _paragraph_text(paragraph: Paragraph, formats: dict, counters: dict[tuple, int]) -> str:
    text = paragraph.text.strip()
    style = _style_name(paragraph)
    level = style.removeprefix("Heading ").strip()
    numbering = _numbering_of(paragraph)
    ordered = style.startswith("List Number") or (
        numbering is not None and formats.get(numbering, "bullet") not in _UNORDERED
    )
    is_item = style.startswith("List") or numbering is not None
    if not (is_item and text):
        counters.clear()
    if style.startswith("Heading ") and level.isdigit() and text:
        return "#" * min(int(level), 6) + " " + " ".join(text.split())
    if style == "Title" and text:
        return "# " + text
    if is_item and text:
        if ordered:
            key = numbering or (style,)
            counters[key] = counters.get(key, 0) + 1
            return f"{counters[key]}. {text}"
        return "- " + text
    return text


def _join_blocks(lines: list[str]) -> str:
    """Blank lines between blocks, single newlines between the items of one list (a tight Markdown list)."""
    out = ""
    for line in lines:
        if out:
            out += "\n" if _is_item(line) and _is_item(out.rsplit("\n", 1)[-1]) else "\n\n"
        out += line
    return out


def _is_item(line: str) -> bool:
    head = line.split(" ", 1)[0]
    return head == "-" or (head.endswith(".") and head[:-1].isdigit())


def _numbering_of(paragraph: Paragraph) -> tuple[str, str] | None:
    """(numId, ilvl) when the paragraph itself is in a Word list (direct numbering, not through its style)."""
    ppr = paragraph._p.pPr
    num = ppr.find(f"{_W}numPr") if ppr is not None else None
    if num is None:
        return None
    num_id = num.find(f"{_W}numId")
    ilvl = num.find(f"{_W}ilvl")
    if num_id is None or num_id.get(f"{_W}val") in (None, "0"):  # numId 0 switches numbering off
        return None
    return num_id.get(f"{_W}val"), ilvl.get(f"{_W}val", "0") if ilvl is not None else "0"


def _numbering_formats(document) -> dict[tuple[str, str], str]:
    """(numId, ilvl) -> Word's numFmt ("bullet", "decimal", "lowerLetter", ...), from the numbering part."""
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract = {}
    for definition in root.iterfind(f"{_W}abstractNum"):
        levels = {}
        for lvl in definition.iterfind(f"{_W}lvl"):
            fmt = lvl.find(f"{_W}numFmt")
            levels[lvl.get(f"{_W}ilvl", "0")] = fmt.get(f"{_W}val", "") if fmt is not None else ""
        abstract[definition.get(f"{_W}abstractNumId")] = levels
    formats = {}
    for num in root.iterfind(f"{_W}num"):
        ref = num.find(f"{_W}abstractNumId")
        levels = abstract.get(ref.get(f"{_W}val") if ref is not None else None, {})
        for ilvl, fmt in levels.items():
            formats[(num.get(f"{_W}numId"), ilvl)] = fmt
    return formats


def _table_text(table: Table) -> str:
    """A GFM table; a merged cell's text once, in the first grid column and row it covers."""
    rows = []
    # lxml hands out one proxy per element only while a reference to it lives: keep them, so ids stay unique
    seen: dict[int, object] = {}
    for row in table.rows:
        texts = [""] * row.grid_cols_before
        for cell in row.cells:
            element = cell._tc
            texts.append("" if id(element) in seen else cell.text)
            seen[id(element)] = element
        rows.append(texts)
    return markdown_table(rows)
