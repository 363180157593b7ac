"""Reading a SCORM `imsmanifest.xml` (1.2 and 2004) into the course outline and the files behind each item.

No maintained parser exists, and authoring tools disagree on details, so this reads by local names only
(namespace prefixes and versions vary), tells 1.2 (`adlcp:scormtype`) from 2004 (`adlcp:scormType`),
resolves `xml:base` on the manifest, <resources> and <resource>, and drops query strings and fragments from
`href`s. defusedxml refuses entity tricks: the manifest is untrusted input.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from knowledge.documents import CorruptFile, UnsafeArchive

# Extra <file> entries worth reading besides the launch page; scripts, styles and media are not.
READABLE_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".md")


@dataclass
class Item:
    title: str
    path: list[str]  # outline titles from the top item down to this one
    depth: int
    files: list[str] = field(default_factory=list)  # package-relative, launch page first


@dataclass
class Manifest:
    title: str
    version: str  # "1.2" | "2004"
    items: list[Item]  # in outline order
    warnings: list[str] = field(default_factory=list)


def parse_manifest(xml: bytes) -> Manifest:
    try:
        root = fromstring(xml)
    except DefusedXmlException as exc:
        raise UnsafeArchive(
            f"imsmanifest.xml declares XML entities ({exc}), refused for safety: export the package again"
        ) from exc
    except ParseError as exc:
        raise CorruptFile(f"imsmanifest.xml is not well-formed XML ({exc}): export the package again") from exc
    organization = _default_organization(root)
    if organization is None:
        raise CorruptFile("imsmanifest.xml has no <organization>, so there is no course outline to read")
    resources_el = _child(root, "resources")
    if resources_el is None:
        resources_el = Element("resources")
    base = urljoin(_base(root), _base(resources_el))
    resources = {_attr(r, "identifier"): r for r in _children(resources_el, "resource")}
    manifest = Manifest(_title(organization) or "", _version(root), [])
    _walk(organization, [], 0, resources, base, manifest)
    return manifest


def _walk(parent: Element, path: list[str], depth: int, resources: dict, base: str, manifest: Manifest) -> None:
    for element in _children(parent, "item"):
        title = _title(element) or _attr(element, "identifier") or "Untitled"
        item = Item(title, [*path, title], depth)
        manifest.items.append(item)
        ref = _attr(element, "identifierref")
        if ref and ref not in resources:
            manifest.warnings.append(f"{title}: resource {ref!r} is not in the manifest")
        elif ref:
            item.files = _resource_files(resources[ref], base, title, manifest.warnings)
        _walk(element, item.path, depth + 1, resources, base, manifest)


def _resource_files(resource: Element, base: str, title: str, warnings: list[str]) -> list[str]:
    """The launch page, then the resource's other readable <file>s, as paths inside the package."""
    base = urljoin(base, _base(resource))
    launch = _attr(resource, "href")
    candidates = [(launch, True)] if launch else []
    candidates += [(href, False) for f in _children(resource, "file") if (href := _attr(f, "href"))]
    files: list[str] = []
    for href, is_launch in candidates:
        path = _package_path(base, href)
        if path is None:
            warnings.append(f"{title}: {href!r} points outside the package and was not read")
        elif path not in files and (is_launch or path.lower().endswith(READABLE_SUFFIXES)):
            files.append(path)
    return files


def _package_path(base: str, href: str) -> str | None:
    """Resolve `href` against the xml:base chain; None for external URLs and paths above the package root."""
    url = urlsplit(urljoin(base, href.strip()))
    path = posixpath.normpath(unquote(url.path).lstrip("/"))
    if url.scheme or url.netloc or path == ".." or path.startswith("../"):
        return None
    return path


def _default_organization(root: Element) -> Element | None:
    organizations = _child(root, "organizations")
    if organizations is None:
        return None
    candidates = _children(organizations, "organization")
    default = _attr(organizations, "default")
    return next((o for o in candidates if _attr(o, "identifier") == default), candidates[0] if candidates else None)


def _version(root: Element) -> str:
    """From <schemaversion> ("1.2", "2004 4th Edition", "CAM 1.3"), else from how the package is written:
    2004 spells `adlcp:scormType` and uses the adlcp_v1p3 / imsss namespaces, 1.2 spells `adlcp:scormtype`.
    """
    schema = next((" ".join(el.itertext()) for el in root.iter() if _local(el.tag) == "schemaversion"), "")
    if schema.strip():
        return "1.2" if "1.2" in schema else "2004"
    names = [el.tag for el in root.iter()] + [key for el in root.iter() for key in el.attrib]
    if any(_local(name) == "scormType" or "v1p3" in name or "imsss" in name for name in names):
        return "2004"
    return "1.2"


def _base(element: Element) -> str:
    """The element's xml:base as a folder: authors mean "course" as "course/", though URL rules would not."""
    base = (_attr(element, "base") or "").strip()
    return base if not base or base.endswith("/") else base + "/"


def _title(element: Element) -> str | None:
    title = _child(element, "title")
    text = " ".join(" ".join(title.itertext()).split()) if title is not None else ""
    return text or None


def _local(name: object) -> str:
    return name.rsplit("}", 1)[-1] if isinstance(name, str) else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element, name: str) -> Element | None:
    return next(iter(_children(element, name)), None)


def _attr(element: Element, name: str) -> str | None:
    """An attribute by local name, case-insensitively (scormtype / scormType, xml:base)."""
    return next((v for k, v in element.attrib.items() if _local(k).lower() == name.lower()), None)
