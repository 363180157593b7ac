"""PowerPoint decks: one section per slide, so citations can say "slide 4", with the speaker notes,
which often hold the explanation the slide only hints at. Tables become GFM tables, first row as header.
"""

from __future__ import annotations

import io

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE

from knowledge.documents import CorruptFile, ParsedDocument, Section
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits
from knowledge.loaders.office import check_office_package
from knowledge.loaders.tables import markdown_table


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    check_office_package(data, "PPTX", limits)
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        core_title = (presentation.core_properties.title or "").strip()
        slides = [_slide(slide) for slide in presentation.slides]
    # python-pptx raises whatever its zip, XML and package layers raise; for an upload all mean "unreadable".
    except Exception as exc:
        raise CorruptFile(
            f"PPTX cannot be read ({exc}): open it in PowerPoint, save it again as .pptx and upload it"
        ) from exc
    sections = []
    for number, (slide_title, body) in enumerate(slides, start=1):
        heading = "# " + (slide_title or f"Slide {number}")
        text = f"{heading}\n\n{body}".strip() if slide_title or body else ""
        sections.append(Section(text, {"slide": number}))
    first_title = next((slide_title for slide_title, _ in slides if slide_title), "")
    return ParsedDocument(
        title=core_title or first_title or title_from_name(name),
        doc_type="pptx",
        sections=sections,
        metadata={"slides": len(slides)},
    )


def _slide(slide) -> tuple[str, str]:
    """The slide's title and its body: text frames and tables in shape order, then the speaker notes."""
    title_shape = slide.shapes.title
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    skip = title_shape.shape_id if title_shape is not None else None
    parts = [text for shape in slide.shapes if shape.shape_id != skip for text in _shape_texts(shape)]
    # Reading `notes_slide` creates an empty notes slide when there is none, so ask first.
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = frame.text.strip() if frame is not None else ""
        if notes:
            parts.append(f"Speaker notes: {notes}")
    return title, "\n\n".join(parts)


def _shape_texts(shape) -> list[str]:
    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return [text for child in shape.shapes for text in _shape_texts(child)]
    if shape.has_table:
        # A merged cell's text sits in its origin cell; the cells it spans over stay empty, keeping the columns.
        rows = [["" if cell.is_spanned else cell.text for cell in row.cells] for row in shape.table.rows]
        table = markdown_table(rows)
        return [table] if table else []
    if shape.has_text_frame:
        lines = (paragraph.text.strip() for paragraph in shape.text_frame.paragraphs)
        text = "\n".join(line for line in lines if line)
        return [text] if text else []
    return []
