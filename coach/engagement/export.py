"""CSV export of one table of an engagement summary, for people who open it in Excel or LibreOffice.

Excel-friendly: a UTF-8 byte-order mark (so accented team or competency names survive a double-click), the
column labels as the header, CRLF line ends. A text cell that a spreadsheet would read as a formula (it starts with
=, +, -, @, a tab or a carriage return) is prefixed with an apostrophe, as OWASP advises against CSV injection:
team and competency names are typed by people, and a cell such as `=HYPERLINK(...)` must stay text.
"""

from __future__ import annotations

import csv
import io

from kernel.errors import NotFound

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(summary: dict, table_name: str, *, bom: bool = True) -> str:
    """The table as CSV text (encode it as UTF-8). Unknown table: NotFound naming the ones there are."""
    tables = summary.get("tables", {})
    if table_name not in tables:
        raise NotFound(f"There is no table {table_name!r} in the report; there are: {', '.join(tables)}.")
    table = tables[table_name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(column["label"]) for column in table["columns"]])
    for row in table["rows"]:
        writer.writerow([safe_cell(row.get(column["key"])) for column in table["columns"]])
    return (BOM if bom else "") + out.getvalue()


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: numbers as they are, no value as an empty cell, text that could
    start a formula defused with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
