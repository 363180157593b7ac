"""Word documents: body paragraphs and tables in reading order, with Word's headings kept as `#` lines.

Headings are recognised only by their style ("Heading N"), which is what Word's navigation pane uses too;
bold "fake" headings stay body text. Text boxes, headers, footers and footnotes are not read.
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
    title = ""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.append(_table_text(block))
        elif _style_name(block) == "Title" and not title:
            title = block.text.strip()
        else:
            lines.append(_paragraph_text(block))
    text = "\n\n".join(line for line in lines if line.strip())
    return ParsedDocument(title=title or core_title or title_from_name(name), doc_type="docx", sections=[Section(text)])


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return style.name if style is not None and style.name else ""


def _paragraph_text(paragraph: Paragraph) -> str:
    text = paragraph.text.strip()
    style = _style_name(paragraph)
    level = style.removeprefix("Heading ").strip()
    if style.startswith("Heading ") and level.isdigit() and text:
        return "#" * min(int(level), 6) + " " + " ".join(text.split())
    if style == "Title" and text:
        return "# " + text
    if style.startswith("List") and text:
        return "- " + text
    return text


def _table_text(table: Table) -> str:
    """Rows as "a | b | c"; a merged cell is reported once per row, not once per grid column it spans."""
    rows = []
    for row in table.rows:
        cells: list = []
        for cell in row.cells:
            if not cells or cell is not cells[-1]:
                cells.append(cell)
        texts = [" ".join(cell.text.split()) for cell in cells]
        if any(texts):
            rows.append(" | ".join(texts))
    return "\n".join(rows)
