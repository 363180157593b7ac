"""HTML pages (and SCORM lesson pages): keep the readable content as Markdown, drop the page furniture.

Parsing only: BeautifulSoup builds a tree, nothing is fetched and no script runs.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from knowledge.documents import ParsedDocument, Section
from knowledge.loaders.base import title_from_name
from knowledge.loaders.limits import Limits

# Navigation, chrome and active content carry no lesson text, and repeated menus would swamp retrieval.
_DROP = ["script", "style", "nav", "header", "footer", "noscript", "form", "title", "template", "iframe", "svg"]
_CONVERTER = MarkdownConverter(heading_style="ATX", bullets="-", escape_underscores=False)


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
    markdown = _CONVERTER.convert_soup(soup)
    return title, re.sub(r"\n{3,}", "\n\n", markdown).strip()


def _text_of(tag) -> str | None:
    text = " ".join(tag.get_text(" ").split()) if tag is not None else ""
    return text or None
