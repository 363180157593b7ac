"""Padding for the scale mode: synthetic passages, embedded once and cached.

Padding is made of sentences from the other evaluation sets beside the dataset (off-topic content, as a real base
holds many documents that do not answer a given question). Made of the dataset's own sentences, it would hold
near-copies of the answers and measure nothing but confusion.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.documents import ParsedDocument, Section
from knowledge.ingest import DocumentItem
from knowledge.metadata import SourceMeta

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def padding_corpora(dataset: Path) -> list[Path]:
    """The corpora of the sibling evaluation sets; the dataset's own only when it has no siblings."""
    siblings = sorted(p for p in dataset.resolve().parent.glob("*/corpus.jsonl") if p.parent != dataset.resolve())
    return siblings or [dataset / "corpus.jsonl"]


def padding_documents(corpora: list[Path], count: int, chunk_size: int, seed: int = 7) -> list[DocumentItem]:
    """`count` one-chunk passages of random sentences; the same every run, so their vectors cache."""
    sentences = []
    for path in corpora:
        with path.open(encoding="utf-8") as handle:
            for line in filter(str.strip, handle):
                text = json.loads(line)["text"]
                sentences.extend(s.strip() for s in _SENTENCE.split(text) if 30 <= len(s.strip()) <= 300)
    rng = random.Random(seed)
    items = []
    for n in range(count):
        text, parts = "", []
        while len(text) < chunk_size * 0.6:
            parts.append(rng.choice(sentences))
            text = " ".join(parts)
        title = f"Padding {n}"
        items.append(DocumentItem(key=f"pad-{n}", document=ParsedDocument(title, "text", [Section(text[:chunk_size - 50])]),
                                  meta=SourceMeta(), content_hash=hashlib.sha256(text.encode()).hexdigest()))
    return items


class CachingEmbedder:
    """Wraps an embedder; passages already embedded once (by text) come from the disk cache."""

    def __init__(self, inner, folder: Path) -> None:
        self.inner, self.name = inner, inner.name
        self._path = folder / (hashlib.sha256(inner.name.encode()).hexdigest()[:12] + ".npz")
        self._cache: dict[str, np.ndarray] = {}
        if self._path.exists():
            stored = np.load(self._path)
            self._cache = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            fresh = self.inner.embed_passages([texts[i] for i in missing])
            self._cache.update((keys[i], fresh[row]) for row, i in enumerate(missing))
        return np.stack([self._cache[key] for key in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self._path, keys=np.array(list(self._cache)), vectors=np.stack(list(self._cache.values())))
