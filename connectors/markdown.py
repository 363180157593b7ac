"""The core's replies and lessons are Markdown (CommonMark with GFM tables and strikethrough); every surface renders
the tokens of this one parser (web HTML, Slack blocks, Teams cards), so none guesses at Markdown with patterns of
its own. Raw HTML in the text is not markup: it is shown as typed."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def parse(text: str) -> list[Token]:
    return PARSER.parse(text or "")
