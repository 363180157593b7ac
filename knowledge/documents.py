"""What a loader hands to chunking: a parsed document as sections that keep where they came from.

Loaders only read; they never write to the knowledge base. Every reason a file is refused is a
`DocumentError` subclass whose message says what is wrong and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernel.errors import CoachError


@dataclass(frozen=True)
class Section:
    """A stretch of a document with one locator.

    `text` is Markdown (headings as `#`, lists, tables as GFM pipe tables); chunking splits it further by its
    headings. `locator` says where the text is: {"page": 3, "page_label": "iii"}, {"slide": 4},
    {"heading": ["Expenses", "Mileage"]}, {"start_ms": 83000, "end_ms": 130000}, {"lesson": "Module 2"},
    or several of these together.
    """

    text: str
    locator: dict = field(default_factory=dict)


@dataclass
class ParsedDocument:
    title: str
    doc_type: str  # markdown | text | html | pdf | docx | pptx | transcript | scorm
    sections: list[Section]
    metadata: dict = field(default_factory=dict)  # e.g. author, language, scorm version

    @property
    def text_length(self) -> int:
        return sum(len(s.text) for s in self.sections)


class DocumentError(CoachError):
    """The file cannot be ingested; the reason is in the message."""


class UnsupportedFormat(DocumentError):
    pass


class CorruptFile(DocumentError):
    pass


class EncryptedFile(DocumentError):
    pass


class EmptyDocument(DocumentError):
    pass


class TooLarge(DocumentError):
    pass


class UnsafeArchive(DocumentError):
    pass


def describe_locator(locator: dict) -> str:
    """A short human label for a locator, as shown next to a citation."""
    parts: list[str] = []
    if "lesson" in locator:
        parts.append(str(locator["lesson"]))
    if "page" in locator:
        label = locator.get("page_label")
        parts.append(f"p. {label}" if label and str(label) != str(locator["page"]) else f"p. {locator['page']}")
    if "slide" in locator:
        parts.append(f"slide {locator['slide']}")
    if "start_ms" in locator:
        parts.append(_clock(locator["start_ms"]))
    if locator.get("heading"):
        parts.append(" › ".join(locator["heading"]))
    return " · ".join(parts)


def _clock(ms: int) -> str:
    seconds = int(ms) // 1000
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
