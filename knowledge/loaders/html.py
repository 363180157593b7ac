"""HTML pages (and SCORM lesson pages): keep the readable content as Markdown, drop the page furniture.

Tables are written here, not by markdownify: it leaves a table without <th> with an empty header row, drops the
delimiter row under a header cell that spans columns, and does not escape `|` in cells. Here the first row is the
header (a <thead> row, else whatever row comes first), a spanned cell's text is given once, and the table becomes
a GFM table through the same code as the other formats. Parsing only: BeautifulSoup builds a tree, nothing is
fetched and no script runs.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from knowledge.documents import ParsedDocument, Section
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits
from knowledge.loaders.tables import markdown_table

# Navigation, chrome and active content carry no lesson text, and repeated menus would swamp retrieval.
_DROP = ["script", "style", "nav", "header", "footer", "noscript", "form", "title", "template", "iframe", "svg"]
_CONVERTER = MarkdownConverter(heading_style="ATX", bullets="-", escape_underscores=False)
_MAX_SPAN = 50  # a hostile colspan="1000000" must not build a million cells


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    title, markdown = html_to_markdown(data)
    return ParsedDocument(title=title or title_from_name(name), doc_type="html", sections=[Section(markdown)])


def html_to_markdown(data: bytes, demote: int = 0) -> tuple[str | None, str]:
    """The page's title (from <title>, else the first <h1>) and its content as Markdown.

    BeautifulSoup gets bytes so it can honour the page's own charset declaration. `demote` pushes the page's
    headings down a level or more, for pages that sit under a heading of their own (a SCORM lesson).
    """
    soup = BeautifulSoup(data, "html.parser")
    title = _text_of(soup.find("title")) or _text_of(soup.find("h1"))
    for tag in soup(_DROP):
        tag.decompose()
    for img in soup("img"):
        # Inline images are often base64 data URIs: keep what the author said the image shows, not its bytes.
        alt = (img.get("alt") or "").strip()
        if alt:
            img.replace_with(alt)
        else:
            img.decompose()
    if demote:
        for heading in soup(["h1", "h2", "h3", "h4", "h5", "h6"]):
            heading.name = f"h{min(int(heading.name[1]) + demote, 6)}"
    tables = _replace_tables(soup)
    markdown = _CONVERTER.convert_soup(soup)
    for placeholder, table in tables.items():
        markdown = markdown.replace(placeholder, table)
    return title, re.sub(r"\n{3,}", "\n\n", markdown).strip()


def _replace_tables(soup) -> dict[str, str]:
    """Swap each outermost <table> for a placeholder paragraph; returns placeholder -> its GFM table."""
    tables: dict[str, str] = {}
    outermost = [table for table in soup("table") if table.find_parent("table") is None]
    for number, table in enumerate(outermost):
        caption = table.find("caption")
        lead = _text_of(caption) if caption is not None and caption.find_parent("table") is table else None
        markdown = markdown_table(_table_rows(table))
        placeholder = f"QQCOACHTABLE{number}QQ"
        paragraph = soup.new_tag("p")
        paragraph.string = placeholder
        table.replace_with(paragraph)
        tables[placeholder] = "\n\n".join(part for part in (lead, markdown) if part)
    return tables


def _table_rows(table) -> list[list[str]]:
    """The table's rows as cell texts (header rows first), with column and row spans filled by empty cells."""
    own = [tr for tr in table("tr") if tr.find_parent("table") is table]
    head = [tr for tr in own if tr.find_parent("thead") is not None and tr.find_parent("thead").find_parent("table") is table]
    foot = [tr for tr in own if tr.find_parent("tfoot") is not None and tr.find_parent("tfoot").find_parent("table") is table]
    body = [tr for tr in own if tr not in head and tr not in foot]
    rows: list[list[str]] = []
    below: dict[int, int] = {}  # column -> how many more rows a rowspan above still covers
    for tr in head + body + foot:
        row: list[str] = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            while below.get(len(row), 0) > 0:
                below[len(row)] -= 1
                row.append("")
            text = _CONVERTER.convert(cell.decode_contents())
            colspan = _span(cell.get("colspan"))
            rowspan = _span(cell.get("rowspan"))
            for offset in range(colspan):
                if rowspan > 1:
                    below[len(row)] = rowspan - 1
                row.append(text if offset == 0 else "")
        while below.get(len(row), 0) > 0:
            below[len(row)] -= 1
            row.append("")
        rows.append(row)
    return rows


def _span(value) -> int:
    try:
        return min(max(int(str(value).strip()), 1), _MAX_SPAN)
    except (TypeError, ValueError):
        return 1


def _text_of(tag) -> str | None:
    text = " ".join(tag.get_text(" ").split()) if tag is not None else ""
    return text or None
