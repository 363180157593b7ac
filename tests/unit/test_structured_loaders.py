"""Structure survives ingestion: tables come out as GFM tables with their header row, wrapped PDF lines are
joined, PDF headings are found by font size, in the sample content and in files built here."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import docx
import pptx
import pytest
from fpdf import FPDF
from pptx.util import Inches

from knowledge.chunking import Chunker
from knowledge.documents import CorruptFile
from knowledge.loaders import load_bytes, load_file

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "examples/content/expenses/expenses-and-travel-policy.pdf"

MILEAGE = """| Country | Vehicle | Rate |
| --- | --- | --- |
| Netherlands | Car, motorbike or bicycle | EUR 0.23 per km |
| United Kingdom | Car or van, first 10,000 business miles in the tax year | 45p per mile |
| United Kingdom | Car or van, above 10,000 business miles | 25p per mile |
| United Kingdom | Motorbike | 24p per mile |
| United Kingdom | Bicycle | 20p per mile |"""

PER_DIEM = """| Destination | Full day (overnight trip) | Departure and return day | Day trip of 6 hours or more |
| --- | --- | --- | --- |
| Netherlands | EUR 45 | EUR 34 | EUR 15 |
| United Kingdom | GBP 40 | GBP 30 | GBP 12 |
| Other countries | Finance table in Atlas (default EUR 55) | 75% of the full day | EUR 15 |"""


# --- the sample travel policy ----------------------------------------------------------------------------------


def test_the_mileage_table_is_one_markdown_table_in_one_chunk_with_its_lead_in():
    document = load_file(SAMPLE_PDF)
    page = next(s for s in document.sections if "Country | Vehicle | Rate" in s.text)
    assert page.locator == {"page": 3}
    assert MILEAGE in page.text
    assert "Country Vehicle Rate" not in page.text  # the table's words are not in the running text as well
    chunks = Chunker(900, 120).chunk("expenses.pdf", document)
    [chunk] = [c for c in chunks if "| Country | Vehicle | Rate |" in c.text]
    assert MILEAGE in chunk.text
    assert chunk.text.startswith("If you use your own vehicle for business travel")  # the lead-in sentence
    assert chunk.locator == {"page": 3, "heading": ["5. Mileage"]}


def test_the_per_diem_table_joins_its_wrapped_header_cells():
    document = load_file(SAMPLE_PDF)
    assert PER_DIEM in document.sections[3].text


def test_the_sample_policy_has_headings_joined_paragraphs_and_list_items():
    document = load_file(SAMPLE_PDF)
    page_two = document.sections[1].text.split("\n")
    assert "## 1. Purpose and principles" in page_two
    assert "### Rail" in page_two
    assert ("This policy explains which business costs Northwind Loom pays for, how to claim them and who approves "
            "them. It applies to employees in the Netherlands and the United Kingdom and to remote employees "
            "elsewhere in Europe. We reimburse reasonable costs that you make for the company, so that you are "
            "neither better nor worse off.") in page_two
    assert ("- Submit one claim per trip, or one claim per month for small recurring items.") in page_two
    # running headers and footers are not text of the page
    assert not any("Version 4.2" in s.text or re.search(r"Page \d of 6", s.text) for s in document.sections)
    # the cover's table is ruled between rows only
    assert "| Applies to | All employees of Northwind Loom B.V. and Northwind Loom Ltd; section 10 applies to " \
           "contractors and agency staff |" in document.sections[0].text


# --- PDFs built here ----------------------------------------------------------------------------------------------

PARAGRAPH = ("Employees who travel for work book trains through the travel desk, and they keep every receipt "
             "until the claim is paid, because finance checks a sample of claims every month and asks for the "
             "originals of any amount above the limit that applies to them")


def structured_pdf(extra=None) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 9, "Travel rules", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, PARAGRAPH + ".", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for item in ("Book early.", "Keep receipts for every trip that you make abroad, including the ones that you "
                 "make by train, bus or taxi in a country where receipts are not usual."):
        pdf.cell(5, 6, "-")
        pdf.multi_cell(0, 6, item, new_x="LMARGIN", new_y="NEXT")
    if extra:
        extra(pdf)
    return bytes(pdf.output())


def test_a_wrapped_paragraph_is_one_line_and_a_large_bold_line_a_heading():
    text = load_bytes("rules.pdf", structured_pdf()).sections[0].text
    lines = text.split("\n")
    assert lines[0].lstrip("#").strip() == "Travel rules" and lines[0].startswith("#")
    assert PARAGRAPH + "." in lines
    assert "- Book early." in lines
    assert ("- Keep receipts for every trip that you make abroad, including the ones that you make by train, bus "
            "or taxi in a country where receipts are not usual.") in lines


def test_a_page_with_too_many_objects_keeps_pdfium_text_and_stays_fast():
    def clutter(pdf: FPDF) -> None:
        for n in range(21_000):
            pdf.rect(10 + (n % 180), 200 + (n // 180) * 0.5, 0.2, 0.2)

    data = structured_pdf(clutter)
    started = time.perf_counter()
    text = load_bytes("busy.pdf", data).sections[0].text
    assert time.perf_counter() - started < 5
    assert "#" not in text and PARAGRAPH not in text  # PDFium's lines, as the typesetter broke them
    assert "Employees who travel for work" in text


def test_a_damaged_pdf_is_still_corrupt():
    data = structured_pdf()
    with pytest.raises(CorruptFile, match="damaged or incomplete"):
        load_bytes("cut.pdf", data[: len(data) // 3])


# --- DOCX, PPTX, HTML ------------------------------------------------------------------------------------------


def test_a_docx_table_is_a_markdown_table_with_merged_cells_once_and_pipes_escaped():
    document = docx.Document()
    document.add_paragraph("Limits per level:")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [["Level", "Hotel", "Approver"], ["Junior", "EUR 120", "Manager"],
                                        ["Senior", "EUR 150 | EUR 180 in Paris", "Director\nor CFO"]]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    merged = table.add_row().cells
    merged[0].merge(merged[2]).text = "Outside Europe: ask the travel desk"
    document.add_paragraph("First step", style="List Number")
    document.add_paragraph("Second step", style="List Number")
    document.add_paragraph("A note")
    document.add_paragraph("Again from one", style="List Number")
    buffer = io.BytesIO()
    document.save(buffer)
    text = load_bytes("limits.docx", buffer.getvalue()).sections[0].text
    assert text == (
        "Limits per level:\n\n"
        "| Level | Hotel | Approver |\n| --- | --- | --- |\n| Junior | EUR 120 | Manager |\n"
        "| Senior | EUR 150 \\| EUR 180 in Paris | Director or CFO |\n"
        "| Outside Europe: ask the travel desk |  |  |\n\n"
        "1. First step\n2. Second step\n\nA note\n\n1. Again from one"
    )


def test_a_pptx_table_is_a_markdown_table():
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Budgets"
    table = slide.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for (row, col), value in {(0, 0): "Level", (0, 1): "Budget", (0, 2): "Note",
                              (1, 0): "Junior", (1, 1): "EUR 1,000", (1, 2): "per year\nnot carried over",
                              (2, 0): "Senior | lead", (2, 1): "EUR 1,500"}.items():
        table.cell(row, col).text = value
    table.cell(2, 1).merge(table.cell(2, 2))
    buffer = io.BytesIO()
    deck.save(buffer)
    text = load_bytes("budgets.pptx", buffer.getvalue()).sections[0].text
    assert text == (
        "# Budgets\n\n| Level | Budget | Note |\n| --- | --- | --- |\n"
        "| Junior | EUR 1,000 | per year not carried over |\n| Senior \\| lead | EUR 1,500 |  |"
    )


@pytest.mark.parametrize("table", [
    "<table><tr><th>Country</th><th>Rate</th></tr><tr><td>Netherlands</td><td>EUR 0.23</td></tr></table>",
    "<table><tr><td>Country</td><td>Rate</td></tr><tr><td>Netherlands</td><td>EUR 0.23</td></tr></table>",
    "<table><tbody><tr><th>Country</th><th>Rate</th></tr><tr><td>Netherlands</td><td><p>EUR</p><p>0.23</p></td>"
    "</tr></tbody></table>",
    "<table><tbody><tr><td>Netherlands</td><td>EUR 0.23</td></tr></tbody>"
    "<thead><tr><th>Country</th><th>Rate</th></tr></thead></table>",
])
def test_an_html_table_has_its_header_row_first(table):
    page = f"<h1>Mileage</h1><p>Rates:</p>{table}<ol><li>Claim in Atlas</li><li>Attach the route</li></ol>"
    text = load_bytes("rates.html", page.encode()).sections[0].text
    assert text == (
        "# Mileage\n\nRates:\n\n| Country | Rate |\n| --- | --- |\n| Netherlands | EUR 0.23 |\n\n"
        "1. Claim in Atlas\n2. Attach the route"
    )


def test_an_html_table_with_spans_pipes_and_a_caption():
    page = ("<table><caption>Hotel caps</caption><tr><th colspan=2>City and cap</th><th>Note</th></tr>"
            "<tr><td rowspan=2>Paris</td><td>EUR 200</td><td>a | b</td></tr><tr><td>EUR 250</td><td>fairs</td></tr>"
            "</table>")
    text = load_bytes("caps.html", page.encode()).sections[0].text
    assert text == (
        "Hotel caps\n\n| City and cap |  | Note |\n| --- | --- | --- |\n| Paris | EUR 200 | a \\| b |\n"
        "|  | EUR 250 | fairs |"
    )
