"""Plain-text files: one section, titled by a short first line when the author wrote one.

An FAQ written as plain text ("Q5. What is the mileage rate?" / "A. In the Netherlands ...") gets each question as
a heading, so each question and its answer is a chunk of its own, found by its question (the heading is embedded
as a field of its own) and cited by it."""

from __future__ import annotations

import re

from knowledge.documents import ParsedDocument, Section
from knowledge.loaders.base import decode_text, title_from_name
from knowledge.loaders.limits import Limits

_MAX_TITLE_CHARS = 80
_QUESTION = re.compile(r"^(?:Q|Question|Vraag)\s*\d*\s*[.:)]\s*(\S.*\?)\s*$", re.IGNORECASE | re.MULTILINE)
_ANSWER = re.compile(r"^(?:A|Answer|Antwoord)\s*\d*\s*[.:)]\s+", re.IGNORECASE)


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    text = decode_text(data, "Text").strip()
    first_line = text.split("\n", 1)[0].strip()
    title = first_line if 0 < len(first_line) <= _MAX_TITLE_CHARS else title_from_name(name)
    return ParsedDocument(title=title, doc_type="text", sections=[Section(faq_as_headings(text))])


def faq_as_headings(text: str) -> str:
    """Q/A-marked questions as `##` headings and their answers without the "A." mark; other text as it is. Two
    marked questions at least, so a lone "Q: ...?" line in prose stays prose."""
    if len(_QUESTION.findall(text)) < 2:
        return text
    lines, after_question = [], False
    for line in text.split("\n"):
        if match := _QUESTION.match(line):
            lines.append(f"## {match[1].strip()}")
            after_question = True
        elif after_question and line.strip():
            lines.append(_ANSWER.sub("", line, count=1))
            after_question = False
        else:
            lines.append(line)
    return "\n".join(lines)
