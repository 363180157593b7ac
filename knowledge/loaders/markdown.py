"""Markdown files: already in the section format, so only the title and YAML front matter need work."""

from __future__ import annotations

import json
import re

import yaml

from knowledge.documents import ParsedDocument, Section
from knowledge.loaders.base import decode_text, title_from_name
from knowledge.loaders.limits import Limits

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    text = decode_text(data, "Markdown")
    front, body = split_front_matter(text)
    title = str(front.get("title") or "").strip() or first_h1(body) or title_from_name(name)
    metadata = {"front_matter": front} if front else {}
    return ParsedDocument(title=title, doc_type="markdown", sections=[Section(body.strip())], metadata=metadata)


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter as a dict, and the text without it.

    A block that is not a YAML mapping is left in the text: it was probably a horizontal rule. Values go
    through JSON so dates and the like arrive as strings that any store can keep.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        front = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return {}, text
    if not isinstance(front, dict):
        return {}, text
    return json.loads(json.dumps(front, default=str)), text[match.end():]


def first_h1(markdown: str) -> str | None:
    """The first `# ` heading outside fenced code (a shell comment in a code block is not a title)."""
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("# "):
            return line[2:].strip().rstrip("#").strip() or None
    return None
