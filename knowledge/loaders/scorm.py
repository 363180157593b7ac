"""SCORM packages (1.2 and 2004): the lesson pages in course-outline order, read from the zip in memory.

Nothing is extracted and nothing runs: the manifest says which pages belong to which lesson, and each page
is converted like any HTML upload. Lessons whose text is built by JavaScript have nothing to read; they are
reported in metadata["warnings"] rather than failing the whole package.
"""

from __future__ import annotations

import posixpath

from knowledge.documents import EmptyDocument, ParsedDocument, Section, UnsupportedFormat
from knowledge.loaders.base import decode_text, title_from_name
from knowledge.loaders.html import html_to_markdown
from knowledge.loaders.limits import Limits
from knowledge.loaders.scorm_manifest import Item, parse_manifest
from knowledge.safezip import SafeZip, open_safe_zip

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_TEXT_SUFFIXES = (".txt", ".md")


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    with open_safe_zip(data, limits) as archive:
        manifest_name = _manifest_name(archive.names())
        if manifest_name is None:
            raise UnsupportedFormat(
                "a .zip must be a SCORM package with imsmanifest.xml at its root: upload the documents "
                "themselves, or export the course from your authoring tool as SCORM 1.2 or 2004"
            )
        manifest = parse_manifest(archive.read(manifest_name))
        package = _Package(archive, posixpath.dirname(manifest_name), manifest.warnings)
        sections = [section for item in manifest.items if (section := package.section(item))]
    if not sections:
        raise EmptyDocument(
            "SCORM package has no readable lesson text (its pages may be built by JavaScript, or be video "
            "only): upload the source documents of the course instead"
        )
    metadata = {
        "scorm_version": manifest.version,
        "outline": [{"title": item.title, "depth": item.depth} for item in manifest.items],
    }
    if manifest.warnings:
        metadata["warnings"] = manifest.warnings
    return ParsedDocument(
        title=manifest.title or title_from_name(name), doc_type="scorm", sections=sections, metadata=metadata
    )


def _manifest_name(names: list[str]) -> str | None:
    """imsmanifest.xml at the root, or in the shallowest folder when the package was zipped from outside it."""
    manifests = [n for n in names if posixpath.basename(n).lower() == "imsmanifest.xml"]
    return min(manifests, key=lambda n: n.count("/"), default=None)


class _Package:
    """The zip's files as seen from the manifest's folder, tolerant of the case mismatches Windows tools leave."""

    def __init__(self, archive: SafeZip, root: str, warnings: list[str]) -> None:
        self._archive = archive
        self._root = root
        self._by_lower = {n.lower(): n for n in archive.names()}
        self._warnings = warnings

    def section(self, item: Item) -> Section | None:
        """The item's pages under its outline path as a heading; None when it has nothing to read."""
        if not item.files:
            return None
        texts = [text for path in item.files if (text := self._page_text(item, path))]
        if not texts:
            self._warnings.append(f"{item.title}: no readable text in {', '.join(item.files)}")
            return None
        heading = "# " + " › ".join(item.path)
        return Section("\n\n".join([heading, *texts]), {"lesson": item.title})

    def _page_text(self, item: Item, path: str) -> str:
        member = self._by_lower.get(posixpath.join(self._root, path).lower())
        if member is None:
            self._warnings.append(f"{item.title}: {path} is missing from the package")
            return ""
        if member.lower().endswith(_HTML_SUFFIXES):
            return html_to_markdown(self._archive.read(member), demote=1)[1]
        if member.lower().endswith(_TEXT_SUFFIXES):
            return decode_text(self._archive.read(member), "Lesson").strip()
        return ""
