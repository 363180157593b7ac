"""PDF files: one section per page, so citations can say "p. 12" (or the printed label, "p. xii").

PDFium opens the file and answers what it does best and fastest: damaged or encrypted files, metadata, page
labels, and each page's plain text. The page's structure (tables as GFM tables, headings, wrapped lines joined)
comes from pdfplumber in `pdf_layout`, which is pure Python: a page PDFium counts too many objects or characters
on, or one pdfminer cannot read, keeps PDFium's plain text, and so does everything past a character budget per
document, so one hostile upload costs a bounded amount of time.

PDFium is not thread-safe, and uploads may be ingested from several threads: every PDFium call, including
closing (which would otherwise happen in a finalizer on any thread), runs under one module-level lock.
pdfplumber opens its own parse of the bytes and runs outside that lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from knowledge.documents import CorruptFile, EmptyDocument, EncryptedFile, ParsedDocument, Section
from knowledge.loaders import pdf_layout
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits

_PDFIUM_LOCK = threading.Lock()
# PDFium marks soft hyphens and unmapped glyphs with these; they would split or pollute words.
_NOISE = str.maketrans({"\x02": "", "\ufffe": "", "\x00": ""})

# What pdfplumber may be given. A dense page of text holds 3,000 to 6,000 characters and a few hundred objects;
# pdfminer with pdfplumber takes roughly 70 µs a character, so the document budget is about half a minute.
MAX_LAYOUT_PAGE_OBJECTS = 20_000
MAX_LAYOUT_PAGE_CHARS = 30_000
MAX_LAYOUT_DOCUMENT_CHARS = 500_000


@dataclass
class _Page:
    text: str  # PDFium's plain text
    locator: dict
    objects: int
    chars: int


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    if b"%PDF-" not in data[:1024]:
        raise CorruptFile("this is not a PDF (no %PDF header): check the file, or export it again as PDF")
    with _PDFIUM_LOCK:
        doc = _open(data)
        try:
            title = (doc.get_metadata_value("Title") or "").strip()
            author = (doc.get_metadata_value("Author") or "").strip()
            pages = [_page(doc, index) for index in range(len(doc))]
        except pdfium.PdfiumError as exc:
            raise CorruptFile(f"PDF has a damaged page ({exc}): export it again and upload the new file") from exc
        finally:
            doc.close()
    if not any(page.text for page in pages):
        raise EmptyDocument(
            "PDF has no text layer (it is probably scanned images) and OCR is not supported: "
            "upload a PDF with selectable text, or the source document"
        )
    laid_out = pdf_layout.read_pages(data, _layout_budget(pages), len(pages))
    sections = [Section((text or "").strip() or page.text, page.locator) for page, text in zip(pages, laid_out)]
    metadata = {"pages": len(sections), **({"author": author} if author else {})}
    return ParsedDocument(title=title or title_from_name(name), doc_type="pdf", sections=sections, metadata=metadata)


def _layout_budget(pages: list[_Page]) -> list[bool]:
    """Which pages pdfplumber reads: those with text, within the per-page caps, until the budget is spent."""
    wanted, spent = [], 0
    for page in pages:
        ok = bool(page.text) and page.objects <= MAX_LAYOUT_PAGE_OBJECTS and page.chars <= MAX_LAYOUT_PAGE_CHARS
        ok = ok and spent + page.chars <= MAX_LAYOUT_DOCUMENT_CHARS
        spent += page.chars if ok else 0
        wanted.append(ok)
    return wanted


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedFile("PDF is password-protected: remove the password and upload it again") from exc
        raise CorruptFile(f"PDF cannot be read ({exc}): it may be damaged or incomplete; export it again") from exc


def _page(doc: pdfium.PdfDocument, index: int) -> _Page:
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            chars = textpage.count_chars()
        finally:
            textpage.close()
        objects = _count_objects(page)
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_NOISE).strip()
    locator: dict = {"page": index + 1}
    label = doc.get_page_label(index)
    if label and label != str(index + 1):
        locator["page_label"] = label
    return _Page(text, locator, objects, chars)


def _count_objects(page: pdfium.PdfPage) -> int:
    """The page's objects, with those inside form XObjects one level down (where a hostile page hides them)."""
    total = pdfium_c.FPDFPage_CountObjects(page.raw)
    if total > MAX_LAYOUT_PAGE_OBJECTS:
        return total
    for index in range(total):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, index)
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_FORM:
            total += max(pdfium_c.FPDFFormObj_CountObjects(obj), 0)
            if total > MAX_LAYOUT_PAGE_OBJECTS:
                break
    return total
