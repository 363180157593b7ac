from knowledge.chunking import Chunker
from knowledge.documents import ParsedDocument, Section

GUIDE = """# Expenses
Claims go through the expenses app within 30 days.

## Mileage
Private cars: 0.23 euro per kilometre.

### Abroad
Use the local rate.
"""


def chunk(document, key="guide.md", **sizes):
    return Chunker(**sizes).chunk(key, document)


def test_headings_become_locators_and_a_field_of_their_own():
    chunks = chunk(ParsedDocument("Travel guide", "markdown", [Section(GUIDE)]))
    assert [c.locator.get("heading") for c in chunks] == [["Expenses"], ["Expenses", "Mileage"], ["Expenses", "Mileage", "Abroad"]]
    assert chunks[1].heading == "Travel guide › Expenses › Mileage"
    assert chunks[1].index_text.startswith("Travel guide — Expenses › Mileage\n") and chunks[1].text.startswith("Private cars")
    assert [c.ordinal for c in chunks] == [0, 1, 2]


def test_pages_and_slides_keep_their_numbers_and_long_text_is_split_within_them():
    long_page = " ".join(f"Sentence number {n} about hotel rules." for n in range(80))
    chunks = chunk(ParsedDocument("Policy", "pdf", [Section("Intro page.", {"page": 1}), Section(long_page, {"page": 2})]),
                   chunk_size=400, chunk_overlap=50)
    assert chunks[0].locator == {"page": 1}
    page_two = [c for c in chunks if c.locator == {"page": 2}]
    assert len(page_two) > 5 and all(len(c.text) <= 400 for c in page_two)
    assert chunks[1].index_text.startswith("Policy — p. 2\n")


def test_ids_are_stable_across_runs_and_only_change_where_the_text_changed():
    first = chunk(ParsedDocument("Travel guide", "markdown", [Section(GUIDE)]))
    again = chunk(ParsedDocument("Travel guide", "markdown", [Section(GUIDE)]))
    edited = chunk(ParsedDocument("Travel guide", "markdown", [Section(GUIDE.replace("0.23", "0.25"))]))
    assert [c.id for c in first] == [c.id for c in again]
    assert [a.id == b.id for a, b in zip(first, edited)] == [True, False, True]
    other_source = chunk(ParsedDocument("Travel guide", "markdown", [Section(GUIDE)]), key="copy.md")
    assert not {c.id for c in first} & {c.id for c in other_source}


def test_repeated_text_gets_distinct_ids():
    chunks = chunk(ParsedDocument("Deck", "pptx", [Section("Questions?", {"slide": 9}), Section("Questions?", {"slide": 9})]))
    assert len({c.id for c in chunks}) == 2


# --- tables ------------------------------------------------------------------------------------------------------

HEADER = "| City | Cap per night | Note |\n| --- | --- | --- |"


def table_rows(n: int) -> list[str]:
    return [f"| City number {i} | EUR {100 + i} | breakfast included, taxes included |" for i in range(n)]


def test_a_long_table_is_split_between_rows_and_every_piece_starts_with_the_header():
    rows = table_rows(40)
    text = "## Hotels\n\nThe caps below are per night.\n\n" + HEADER + "\n" + "\n".join(rows) + "\n\nBook early."
    chunks = chunk(ParsedDocument("Policy", "pdf", [Section(text, {"page": 4})]), chunk_size=400, chunk_overlap=50)
    table_chunks = [c for c in chunks if "| City number" in c.text]
    assert len(table_chunks) > 3
    assert table_chunks[0].text.startswith("The caps below are per night.\n\n" + HEADER + "\n")
    assert all(c.text.startswith(HEADER + "\n") for c in table_chunks[1:])
    assert all(len(c.text) <= 400 for c in table_chunks)
    body = [line for c in table_chunks for line in c.text.split("\n") if line.startswith("| City number")]
    assert body == rows  # every row once, in order, none cut
    assert chunks[-1].text == "Book early."
    assert all(c.locator == {"page": 4, "heading": ["Hotels"]} for c in chunks)


def test_a_table_that_fits_stays_whole_with_its_lead_in_even_after_long_text():
    prose = " ".join(f"Sentence {n} about how to book a hotel for a trip." for n in range(30))
    lead = "The mileage rates are:"
    table = HEADER + "\n" + "\n".join(table_rows(5))
    text = f"{prose}\n\n{lead}\n\n{table}\n\nAfter the table."
    chunks = chunk(ParsedDocument("Policy", "markdown", [Section(text)]), chunk_size=500, chunk_overlap=50)
    [with_table] = [c for c in chunks if "| City |" in c.text]
    assert with_table.text.endswith(table) and lead in with_table.text
    assert sum("| City number 0 |" in c.text for c in chunks) == 1


def test_a_table_in_a_code_fence_or_a_pipe_in_prose_is_not_a_table():
    code = "```\n| a | b |\n| --- | --- |\n" + "\n".join(f"| {n} | {n} |" for n in range(60)) + "\n```"
    chunks = chunk(ParsedDocument("Doc", "markdown", [Section("# Code\n\n" + code)]), chunk_size=200, chunk_overlap=0)
    assert not all(c.text.startswith("| a | b |") for c in chunks[1:])
    assert [c.locator.get("heading") for c in chunks] == [["Code"]] * len(chunks)


def test_headings_in_code_fences_are_not_headings_and_blank_lines_are_kept():
    text = "# Setup\n\nFirst paragraph.\n\n```bash\n# not a heading\n```\n\n  - nested item"
    [only] = chunk(ParsedDocument("Doc", "markdown", [Section(text)]))
    assert only.locator == {"heading": ["Setup"]}
    assert only.text == "First paragraph.\n\n```bash\n# not a heading\n```\n\n  - nested item"


def test_the_signature_changes_with_the_table_aware_chunker():
    assert Chunker(900, 120).signature == "v3:900:120"
