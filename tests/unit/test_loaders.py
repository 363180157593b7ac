"""The file loaders against real files built here: each test writes its own fixture under tmp_path."""

from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor

import docx
import pptx
import pytest
from pptx.util import Inches

from knowledge.documents import (
    CorruptFile,
    DocumentError,
    EmptyDocument,
    EncryptedFile,
    TooLarge,
    UnsafeArchive,
    UnsupportedFormat,
)
from knowledge.loaders import SUPPORTED_SUFFIXES, Limits, load_bytes, load_file

from tests.unit.builders import MB, pdf_bytes, write, zip_bytes


# --- entry point -----------------------------------------------------------------------------------------


def test_supported_suffixes_are_the_documented_ones():
    assert SUPPORTED_SUFFIXES == {
        ".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".pptx", ".vtt", ".srt", ".zip"
    }


def test_unsupported_suffix_lists_what_is_supported(tmp_path):
    with pytest.raises(UnsupportedFormat, match=r"\.exe files are not supported") as caught:
        load_file(write(tmp_path, "setup.exe", b"MZ\x90\x00"))
    assert ".pdf" in str(caught.value) and ".docx" in str(caught.value)


def test_oversized_file_is_refused_before_reading_and_names_the_setting(tmp_path):
    path = write(tmp_path, "big.txt", "x" * 2048)
    with pytest.raises(TooLarge, match="COACH_MAX_UPLOAD_MB") as caught:
        load_file(path, Limits(max_file_bytes=1024))
    assert "2 KB" in str(caught.value) and "1 KB" in str(caught.value)
    with pytest.raises(TooLarge):
        load_bytes("big.txt", b"x" * 2048, Limits(max_file_bytes=1024))


def test_missing_file_says_it_cannot_be_read(tmp_path):
    with pytest.raises(DocumentError, match="cannot be read"):
        load_file(tmp_path / "gone.pdf")


def test_empty_markdown_is_an_empty_document(tmp_path):
    with pytest.raises(EmptyDocument, match="contains no text"):
        load_file(write(tmp_path, "empty.md", "  \n\n"))


def test_binary_bytes_under_a_text_suffix_are_corrupt():
    with pytest.raises(CorruptFile, match="binary"):
        load_bytes("notes.txt", b"\x00\x01\x02garbage")


# --- Markdown and plain text -----------------------------------------------------------------------------


def test_markdown_front_matter_gives_the_title_and_is_stripped(tmp_path):
    source = (
        "---\ntitle: Expense policy\naudience: [all]\n---\n"
        "# Expenses\n\nKeep receipts.\n\n## Mileage\n\n0.30 per km\n"
    )
    document = load_file(write(tmp_path, "expenses.md", source))
    assert document.title == "Expense policy"
    assert document.doc_type == "markdown"
    assert document.sections[0].text.startswith("# Expenses")
    assert "## Mileage" in document.sections[0].text
    assert "audience" not in document.sections[0].text
    assert document.metadata["front_matter"]["audience"] == ["all"]


def test_markdown_title_falls_back_to_the_first_h1_then_the_file_name(tmp_path):
    with_heading = "```bash\n# not a title\n```\n\n# Booking training budget\n\nAsk your manager."
    assert load_file(write(tmp_path, "budget.md", with_heading)).title == "Booking training budget"
    assert load_file(write(tmp_path, "peer-feedback_tips.markdown", "Just text.")).title == "Peer feedback tips"


def test_plain_text_title_is_a_short_first_line(tmp_path):
    document = load_file(write(tmp_path, "faq.txt", "Travel FAQ\r\nBook trains 2 weeks ahead.\r\n"))
    assert document.title == "Travel FAQ"
    assert document.sections[0].text == "Travel FAQ\nBook trains 2 weeks ahead."
    long_first_line = "word " * 40
    assert load_file(write(tmp_path, "long_notes.txt", long_first_line)).title == "Long notes"


def test_windows_1252_text_is_decoded():
    document = load_bytes("cafe.txt", "Café menu".encode("cp1252"))
    assert document.sections[0].text == "Café menu"


# --- HTML ------------------------------------------------------------------------------------------------


def test_html_keeps_content_as_markdown_and_drops_scripts_and_chrome(tmp_path):
    page = """<html><head><title>Feedback guide</title><script>document.write('INJECTED')</script>
    <style>p {color: red}</style></head><body><nav>Home | About</nav><header>Intranet</header>
    <h1>Giving feedback</h1><p>Be <b>specific</b> &amp; kind.</p><h2>SBI model</h2>
    <ul><li>Situation</li><li>Behaviour</li></ul><img src="data:image/png;base64,AAAA" alt="SBI diagram">
    <form><input name="q"></form><footer>Copyright</footer></body></html>"""
    document = load_file(write(tmp_path, "guide.html", page))
    text = document.sections[0].text
    assert document.title == "Feedback guide"
    assert document.doc_type == "html"
    assert "# Giving feedback" in text.splitlines()
    assert "## SBI model" in text.splitlines()
    assert "- Situation" in text and "**specific** & kind" in text and "SBI diagram" in text
    for gone in ("INJECTED", "color", "Home | About", "Intranet", "Copyright", "base64", "Feedback guide"):
        assert gone not in text


def test_html_title_falls_back_to_the_first_h1():
    document = load_bytes("page.htm", b"<body><h1>Onboarding</h1><p>Welcome.</p></body>")
    assert document.title == "Onboarding"


# --- PDF -------------------------------------------------------------------------------------------------


def test_pdf_has_one_section_per_page_with_page_labels(tmp_path):
    data = pdf_bytes(["Preface text\nsecond line", "Chapter text"], title="Manager handbook", labels=True)
    document = load_file(write(tmp_path, "handbook.pdf", data))
    assert document.title == "Manager handbook"
    assert document.doc_type == "pdf"
    assert [s.locator for s in document.sections] == [{"page": 1, "page_label": "i"}, {"page": 2, "page_label": "ii"}]
    assert document.sections[0].text == "Preface text second line"  # a line that does not end a sentence: joined
    assert document.sections[1].text == "Chapter text"


def test_pdf_without_labels_or_title_uses_page_numbers_and_the_file_name(tmp_path):
    document = load_file(write(tmp_path, "travel_policy.pdf", pdf_bytes(["One", "", "Three"])))
    assert document.title == "Travel policy"
    assert [s.locator for s in document.sections] == [{"page": 1}, {"page": 3}]  # the blank page has no text


def test_pdf_with_a_user_password_is_encrypted(tmp_path):
    with pytest.raises(EncryptedFile, match="password-protected"):
        load_file(write(tmp_path, "secret.pdf", pdf_bytes(["Secret"], user_password="pw")))


def test_truncated_pdf_is_corrupt(tmp_path):
    data = pdf_bytes(["Some text"])
    with pytest.raises(CorruptFile, match="damaged or incomplete"):
        load_file(write(tmp_path, "cut.pdf", data[: len(data) // 2]))


def test_a_pdf_that_is_not_a_pdf_is_corrupt():
    with pytest.raises(CorruptFile, match="not a PDF"):
        load_bytes("report.pdf", b"<html>an error page</html>")


def test_pdf_without_any_text_says_ocr_is_not_supported():
    with pytest.raises(EmptyDocument, match="OCR is not supported"):
        load_bytes("scan.pdf", pdf_bytes(["", ""]))


def test_pdfs_load_concurrently():
    data = pdf_bytes([f"Page {n}" for n in range(1, 6)])
    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = list(pool.map(lambda _: load_bytes("p.pdf", data), range(16)))
    assert all([s.text for s in d.sections] == [f"Page {n}" for n in range(1, 6)] for d in documents)


# --- DOCX ------------------------------------------------------------------------------------------------


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("Expense guide", style="Title")
    document.add_heading("Travel", level=1)
    document.add_paragraph("Book trains early.")
    document.add_paragraph("Keep receipts", style="List Bullet")
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ["Item", "Limit", "Approver"]):
        cell.text = value
    for cell, value in zip(table.rows[1].cells, ["Hotel", "150", "Manager"]):
        cell.text = value
    document.add_heading("Mileage", level=2)
    document.add_paragraph("0.30 per km.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_keeps_headings_lists_and_tables_in_order(tmp_path):
    document = load_file(write(tmp_path, "guide.docx", docx_bytes()))
    assert document.title == "Expense guide"
    assert document.doc_type == "docx"
    assert document.sections[0].text.split("\n\n") == [
        "# Travel",
        "Book trains early.",
        "- Keep receipts",
        "| Item | Limit | Approver |\n| --- | --- | --- |\n| Hotel | 150 | Manager |",
        "## Mileage",
        "0.30 per km.",
    ]


def test_random_bytes_named_docx_are_corrupt(tmp_path):
    with pytest.raises(CorruptFile, match="not a DOCX"):
        load_file(write(tmp_path, "fake.docx", os.urandom(4096).replace(b"PK", b"pk")))


def test_an_ole_file_named_docx_is_reported_as_password_protected():
    with pytest.raises(EncryptedFile, match="password"):
        load_bytes("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)


def test_a_docx_zip_bomb_is_refused_before_python_docx_opens_it():
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as original:
        entries = {name: original.read(name) for name in original.namelist()}
    entries["word/media/bomb.bin"] = b"\x00" * (20 * MB)
    with pytest.raises(UnsafeArchive, match=r"word/media/bomb\.bin.*inflates"):
        load_bytes("bomb.docx", zip_bytes(entries))


# --- PPTX ------------------------------------------------------------------------------------------------


def pptx_bytes(core_title: str = "") -> bytes:
    deck = pptx.Presentation()
    deck.core_properties.title = core_title
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Why feedback matters"
    first.placeholders[1].text_frame.text = "Trust grows\nPeople improve"
    first.notes_slide.notes_text_frame.text = "Tell the story about the launch."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Budget per level"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (row, col), value in {(0, 0): "Level", (0, 1): "Budget", (1, 0): "Junior", (1, 1): "1000"}.items():
        table.cell(row, col).text = value
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def test_pptx_has_one_section_per_slide_with_notes(tmp_path):
    document = load_file(write(tmp_path, "feedback.pptx", pptx_bytes()))
    assert document.title == "Why feedback matters"  # no core title: the first slide's
    assert document.doc_type == "pptx"
    assert [s.locator for s in document.sections] == [{"slide": 1}, {"slide": 2}]
    first, second = (s.text for s in document.sections)
    assert first.startswith("# Why feedback matters\n")
    assert "Trust grows\nPeople improve" in first
    assert first.endswith("Speaker notes: Tell the story about the launch.")
    assert second.startswith("# Budget per level\n")
    assert "| Level | Budget |\n| --- | --- |\n| Junior | 1000 |" in second
    assert "Speaker notes" not in second


def test_pptx_core_title_wins():
    assert load_bytes("deck.pptx", pptx_bytes(core_title="Feedback training")).title == "Feedback training"


# --- transcripts -----------------------------------------------------------------------------------------

VTT = """WEBVTT - Recording

NOTE
Title: Team onboarding call

00:00:01.250 --> 00:00:04.500
<v Alice Smith>Welcome &amp; hello <b>team</b>

00:00:04.600 --> 00:00:30.000
<v Alice Smith>Today we cover expenses.

00:00:30.100 --> 00:01:02.345
<v.loud Bob>Thanks!
Where are receipts kept?

00:01:05.001 --> 00:01:09.999
<v Alice Smith>In the finance portal.
"""


def test_vtt_keeps_speakers_and_millisecond_times(tmp_path):
    document = load_file(write(tmp_path, "call.vtt", VTT))
    assert document.title == "Team onboarding call"
    assert document.doc_type == "transcript"
    assert [s.locator for s in document.sections] == [
        {"start_ms": 1250, "end_ms": 62345},
        {"start_ms": 65001, "end_ms": 69999},
    ]
    assert document.sections[0].text == (
        "Alice Smith: Welcome & hello team Today we cover expenses.\nBob: Thanks! Where are receipts kept?"
    )
    assert document.sections[1].text == "Alice Smith: In the finance portal."


def test_long_transcripts_are_grouped_by_characters_too():
    cues = "".join(
        f"00:00:{n:02d}.000 --> 00:00:{n:02d}.900\n{'word ' * 60}\n\n" for n in range(10)
    )
    document = load_bytes("talk.vtt", ("WEBVTT\n\n" + cues).encode())
    assert document.title == "Talk"
    assert len(document.sections) > 1
    assert all(len(s.text) <= 1200 + 300 for s in document.sections)
    assert document.sections[0].locator["start_ms"] == 0


def test_srt_times_keep_milliseconds(tmp_path):
    srt = "1\n00:00:01,500 --> 00:00:03,250\nHello there\n\n2\n00:00:03,300 --> 00:00:05,007\nSecond line\n"
    document = load_file(write(tmp_path, "welcome_video.srt", srt))
    assert document.title == "Welcome video"
    assert document.sections[0].locator == {"start_ms": 1500, "end_ms": 5007}
    assert document.sections[0].text == "Hello there Second line"


def test_malformed_vtt_is_corrupt():
    with pytest.raises(CorruptFile, match="WebVTT"):
        load_bytes("broken.vtt", b"not a transcript at all")
