"""PDF files: one section per page, so citations can say "p. 12" (or the printed label, "p. xii").

PDFium is not thread-safe, and uploads may be ingested from several threads: every PDFium call, including
closing (which would otherwise happen in a finalizer on any thread), runs under one module-level lock.
"""

from __future__ import annotations

import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from knowledge.documents import CorruptFile, EmptyDocument, EncryptedFile, ParsedDocument, Section
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits

_PDFIUM_LOCK = threading.Lock()
# PDFium marks soft hyphens and unmapped glyphs with these; they would split or pollute words.
_NOISE = str.maketrans({"\x02": "", "\ufffe": "", "\x00": ""})


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    if b"%PDF-" not in data[:1024]:
        raise CorruptFile("this is not a PDF (no %PDF header): check the file, or export it again as PDF")
    with _PDFIUM_LOCK:
        doc = _open(data)
        try:
            title = (doc.get_metadata_value("Title") or "").strip()
            author = (doc.get_metadata_value("Author") or "").strip()
            sections = [_page_section(doc, index) for index in range(len(doc))]
        except pdfium.PdfiumError as exc:
            raise CorruptFile(f"PDF has a damaged page ({exc}): export it again and upload the new file") from exc
        finally:
            doc.close()
    if not any(section.text for section in sections):
        raise EmptyDocument(
            "PDF has no text layer (it is probably scanned images) and OCR is not supported: "
            "upload a PDF with selectable text, or the source document"
        )
    metadata = {"pages": len(sections), **({"author": author} if author else {})}
    return ParsedDocument(title=title or title_from_name(name), doc_type="pdf", sections=sections, metadata=metadata)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedFile("PDF is password-protected: remove the password and upload it again") from exc
        raise CorruptFile(f"PDF cannot be read ({exc}): it may be damaged or incomplete; export it again") from exc


def _page_section(doc: pdfium.PdfDocument, index: int) -> Section:
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_NOISE).strip()
    locator: dict = {"page": index + 1}
    label = doc.get_page_label(index)
    if label and label != str(index + 1):
        locator["page_label"] = label
    return Section(text, locator)
