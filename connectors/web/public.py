"""What the web chat's public responses say about a source: anyone may call them, so they name a source as L&D knows
it (its title, its id as `coach sources` lists it, the file's own name), never the server path it was read from,
and link it only to a web address (a sidecar's `link: file:///share/...` or `/srv/...` stays on the server)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from coach.messages import Citation
from kernel.ports import Passage


def public_key(key: str) -> str:
    """The last part of a source's key: a file's name for a path (`coach ingest` keys a file by its resolved path)
    or an upload (`upload:NAME`); a key without either (a data set's id) as it is."""
    return re.split(r"[/\\:]", key.rstrip("/\\"))[-1]


def public_link(link: str) -> str:
    """A web address, or the coach's own reading link (/read/..., coach/source_links.py); anything else: none."""
    link = link.strip()
    return link if urlsplit(link).scheme in ("http", "https") or link.startswith("/read/") else ""


def passage_json(passage: Passage) -> dict:
    return {**passage.as_json(), "source_key": public_key(passage.source_key), "link": public_link(passage.link)}


def citation_json(citation: Citation) -> dict:
    return {**citation.as_json(), "link": public_link(citation.link)}
