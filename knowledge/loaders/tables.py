"""Tables as GFM pipe tables, whatever format they came from.

A table flattened to "a b c" lines loses which value belongs to which column ("Netherlands Car, motorbike or
bicycle EUR 0.23 per km"), so every loader that finds a table hands its rows here. The first row is the header:
that is how Word, PowerPoint, PDF generators and most HTML pages lay tables out, and the chunker keeps it with
every piece of the table. A row is one line, so a cell's own line breaks become spaces and a `|` in a cell is
escaped; rows that are shorter than the widest one are padded, so the table stays rectangular.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["cell_text", "markdown_table"]


def cell_text(value: object) -> str:
    """One cell as it goes between pipes: one line, `|` escaped (GFM's escape inside a table cell)."""
    if value is None:
        return ""
    words = str(value).replace("\\|", "|").split()
    return " ".join(words).replace("|", "\\|")


def markdown_table(rows: Iterable[Sequence[object]]) -> str:
    """GFM pipe table with the first non-empty row as its header; "" when no row has any text.

    A merged cell is passed as its text in the first column it spans and None (or "") in the others.
    """
    cleaned = [[cell_text(cell) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return ""
    width = max(len(row) for row in cleaned)
    # trailing columns that are empty in every row are layout, not content
    while width > 1 and all(len(row) < width or not row[width - 1] for row in cleaned):
        width -= 1
    padded = [row[:width] + [""] * (width - len(row)) for row in cleaned]
    header, *body = padded
    lines = [_row(header), _row(["---"] * width), *(_row(row) for row in body)]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
