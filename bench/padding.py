"""Padding for the scale mode: synthetic one-chunk passages of off-topic sentences, with cheap real-model vectors.

Padding is made of sentences from the other evaluation sets beside the dataset (off-topic content, as a real base
holds many documents that do not answer a given question); made of the dataset's own sentences it would hold
near-copies of the answers. The local model embeds only ~6-40 chunks/s on two cores, so each distinct sentence is
embedded once (a few thousand, cached on disk) and a padding chunk's vector is the model's own vector of its first
sentence. Not the mean of its sentences' vectors: e5's vectors all lean one way, so a mean lies near the centre of
everything and outranks the real answers (measured at 50,000 chunks: dense recall@5 0.02 with means).
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


def read_sentences(corpora: list[Path]) -> list[str]:
    sentences: dict[str, None] = {}
    for path in corpora:
        with path.open(encoding="utf-8") as handle:
            for line in filter(str.strip, handle):
                for s in _SENTENCE.split(json.loads(line)["text"]):
                    if 30 <= len(s.strip()) <= 300:
                        sentences[" ".join(s.split())] = None
    return list(sentences)


class PaddingEmbedder:
    """Embeds padding chunks as the mean of their (cached) sentence vectors; anything else by the real model."""

    def __init__(self, inner, sentences: list[str], cache: Path) -> None:
        self.inner, self.name = inner, inner.name
        path = cache / f"{hashlib.sha256((inner.name + chr(0)).join(sentences).encode()).hexdigest()[:16]}.npy"
        if path.exists():
            vectors = np.load(path)
        else:
            vectors = inner.embed_passages(sentences)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        self._sentence_vectors = dict(zip(sentences, vectors))
        self.compositions: dict[str, list[str]] = {}  # padding chunk text -> its sentences

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows, real = [None] * len(texts), []
        for i, text in enumerate(texts):
            parts = self.compositions.get(text.split("\n", 1)[-1])
            if parts:
                rows[i] = self._sentence_vectors[parts[0]]
            else:
                real.append(i)
        if real:
            for i, vector in zip(real, self.inner.embed_passages([texts[i] for i in real])):
                rows[i] = vector
        return np.stack(rows).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def padding_documents(embedder: PaddingEmbedder, sentences: list[str], count: int, chunk_size: int,
                      seed: int = 7) -> list[DocumentItem]:
    """`count` one-chunk passages of random sentences, titled by a short sentence of their own."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < chunk_size * 0.6:
            parts.append(rng.choice(sentences))
        while sum(len(p) + 1 for p in parts) > chunk_size - 60:
            parts.pop()
        text = " ".join(parts)
        embedder.compositions[text] = parts
        title = " ".join(rng.choice(sentences).split()[:6]).rstrip(".,;:")
        items.append(DocumentItem(key=f"pad-{n}", document=ParsedDocument(title, "text", [Section(text)]),
                                  meta=SourceMeta(), content_hash=hashlib.sha256(text.encode()).hexdigest()))
    return items
