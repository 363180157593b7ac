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
