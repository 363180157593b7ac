"""Deciding whether the retrieved content answers the question, from calibrated evidence rather than a guess.

A logistic model over a few signals: how close the best chunk is (dense cosine), how strongly it matches by words
(BM25), how close the best single sentence is, how many of the question's words the best passage covers, and how
close the runner-up passage is (fitted with a negative weight: a best passage that stands out from the rest answers
more often than one of several near misses; held out, mtrag +0.03, clapnq +0.02, covid_faq +0.0). Scores alone top out near 0.8 accuracy on clapnq
(cross-validated). Tried and left out: the margin between the two best chunks (it learns clapnq's distractor
design), sentence coverage, the share of the question's words in the quote, answer-type checks, query length, the
second-best sentence, and scores normalised against the knowledge base's own score distribution (mean pairwise and
nearest-neighbour chunk cosine): with three bases to learn from, the normaliser fits those three (held out: clapnq
0.59 from 0.72). Its
weights are fitted on labelled questions by `python -m bench.answers --calibrate` and kept in
`coach/abstention.json` with the figures they reached; the embedding model they were fitted for is recorded, since
scores do not transfer between models: a model other than the default one gets its own file
(`coach/abstention.<embedder name>.json`), chosen by `for_embedder`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from coach.extractive import Sentence
from kernel.ports import Passage
from kernel.text import tokenize

FEATURES = ("dense", "keyword", "sentence", "coverage", "second")
MODEL_FILE = Path(__file__).with_name("abstention.json")
log = logging.getLogger(__name__)


def model_file(embedder: str) -> Path:
    """Where the model fitted for this embedding model is kept (the default model's: abstention.json)."""
    own = MODEL_FILE.with_name(f"abstention.{embedder}.json")
    if own.exists() or json.loads(MODEL_FILE.read_text(encoding="utf-8")).get("embedder") != embedder:
        return own
    return MODEL_FILE


def features(question: str, passages: Sequence[Passage], sentences: Sequence[Sentence]) -> dict[str, float]:
    if not passages:
        return {name: 0.0 for name in FEATURES}
    best = passages[0]
    asked = set(tokenize(question))
    covered = len(asked & set(tokenize(f"{best.title} {best.where} {best.text}"))) / len(asked) if asked else 0.0
    return {
        "dense": max((p.dense for p in passages if p.dense is not None), default=0.0),
        "keyword": math.log1p(max((p.keyword for p in passages if p.keyword is not None), default=0.0)),
        "sentence": max((s.score for s in sentences), default=0.0),
        "coverage": covered,
        # how close the runner-up passage is: one passage standing out from the rest, or several near misses
        "second": (sorted((p.dense for p in passages if p.dense is not None), reverse=True)[1:2] or [0.0])[0],
    }


@dataclass(frozen=True)
class AbstentionModel:
    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    embedder: str = ""
    fitted_on: str = ""

    def probability(self, values: dict[str, float]) -> float:
        """Probability that the content answers the question."""
        z = self.bias + sum(self.weights.get(name, 0.0) * values[name] for name in FEATURES)  # unfitted: no weight
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def answers(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "AbstentionModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=data["weights"], bias=data["bias"], threshold=data["threshold"],
                   embedder=data.get("embedder", ""), fitted_on=data.get("fitted_on", ""))

    @classmethod
    def for_embedder(cls, embedder: str) -> "AbstentionModel":
        """The model fitted for this embedding model; the default one, with a warning, when none was fitted yet."""
        path = model_file(embedder)
        if path.exists():
            return cls.load(path)
        log.warning("no abstention model is calibrated for the embedding model %s yet; using the one fitted for %s "
                    "(run `python -m bench.answers --calibrate --embedding-model ...`)", embedder,
                    cls.load().embedder)
        return cls.load()

    def save(self, path: Path = MODEL_FILE, **report) -> None:
        payload = {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                   "embedder": self.embedder, "fitted_on": self.fitted_on, **report}
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def fit(rows: Sequence[dict[str, float]], labels: Sequence[bool], *, epochs: int = 3000, rate: float = 0.1,
        l2: float = 1e-3) -> tuple[dict[str, float], float]:
    """Plain logistic regression by gradient descent on standardised features (a few hundred rows; no sklearn)."""
    import numpy as np

    x = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
    y = np.array(labels, dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(len(FEATURES)), 0.0
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    raw = w / std  # back to the features' own units
    return {name: float(v) for name, v in zip(FEATURES, raw)}, float(b - (w * mean / std).sum())
