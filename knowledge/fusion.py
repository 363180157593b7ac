"""Fusing the dense and keyword rankings into one.

Convex combination of min-max normalised scores is the default: on the evaluation sets it beat reciprocal rank
fusion, which throws the score gaps away (see bench/README.md for the figures). RRF stays available.
"""

from __future__ import annotations


def _normalised(results: list[tuple[str, float]]) -> dict[str, float]:
    if not results:
        return {}
    scores = [s for _, s in results]
    low, high = min(scores), max(scores)
    if high - low < 1e-9:
        return {cid: 1.0 for cid, _ in results}
    return {cid: (s - low) / (high - low) for cid, s in results}


def convex(dense: list[tuple[str, float]], keyword: list[tuple[str, float]], dense_weight: float) -> list[tuple[str, float]]:
    d, k = _normalised(dense), _normalised(keyword)
    fused = {cid: dense_weight * d.get(cid, 0.0) + (1 - dense_weight) * k.get(cid, 0.0) for cid in d.keys() | k.keys()}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def rrf(dense: list[tuple[str, float]], keyword: list[tuple[str, float]], k: int = 60) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for results in (dense, keyword):
        for rank, (cid, _) in enumerate(results, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    top = max(fused.values(), default=1.0)
    return sorted(((cid, s / top) for cid, s in fused.items()), key=lambda item: (-item[1], item[0]))
