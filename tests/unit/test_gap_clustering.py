"""Leader clustering of unanswered questions: the same as one-by-one, whatever the batches; and the phrase that
tells a learner when they asked."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from coach.gaps import clustering
from coach.gaps.notices import when_asked


def topics(n: int, centres: int, noise: float, seed: int = 7) -> np.ndarray:
    """Questions around `centres` topics, unit length (as the embedder gives them)."""
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, 64))
    points = middle[rng.integers(0, centres, n)] + noise * rng.normal(size=(n, 64))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def one_by_one(vectors: np.ndarray, threshold: float) -> list[int]:
    """The definition: each question joins the most similar earlier leader at or above the threshold."""
    leaders: list[int] = []
    joined = []
    for i, v in enumerate(vectors):
        sims = [float(vectors[j] @ v) for j in leaders]
        best = int(np.argmax(sims)) if sims else -1
        if sims and sims[best] >= threshold:
            joined.append(leaders[best])
        else:
            leaders.append(i)
            joined.append(i)
    return joined


def as_leaders(vectors: np.ndarray, joined: np.ndarray, founded: np.ndarray, earlier: list[int]) -> list[int]:
    """Leader indexes (into all vectors) from assign()'s answer for the vectors after `earlier` leaders."""
    order = earlier + [i for i, new in enumerate(founded) if new]
    return [order[j] for j in joined]


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_batches_give_the_clusters_of_one_by_one(threshold):
    vectors = topics(600, 25, 0.6)
    expected = one_by_one(vectors, threshold)
    joined, founded = clustering.assign(vectors, np.zeros((0, 64), np.float32), threshold,
                                        batch_size=37)  # many batch boundaries
    assert as_leaders(vectors, joined, founded, []) == expected
    assert 1 < founded.sum() < 600


def test_clustering_the_new_questions_equals_clustering_everything_again():
    vectors, threshold = topics(900, 40, 0.7), 0.5
    first, founded_first = clustering.assign(vectors[:500], np.zeros((0, 64), np.float32), threshold)
    leaders = [i for i, new in enumerate(founded_first) if new]
    later, founded_later = clustering.assign(vectors[500:], vectors[leaders], threshold)  # the old leaders kept
    order = leaders + [500 + i for i, new in enumerate(founded_later) if new]
    incremental = [leaders[j] for j in first] + [order[j] for j in later]
    assert incremental == one_by_one(vectors, threshold)


def test_tens_of_thousands_of_questions_cluster_in_batches():
    vectors = topics(30_000, 400, 0.5)
    joined, founded = clustering.assign(vectors, np.zeros((0, 64), np.float32), 0.5)
    assert 300 <= founded.sum() <= 1500, founded.sum()  # about one cluster per topic, however many arrive at once


def test_the_text_searched_is_the_text_embedded():
    assert clustering.searchable("Mail <EMAIL> about mileage") == "Mail   about mileage"
    assert clustering.searchable("<PERSON>") == "<PERSON>"  # nothing else to search with


@pytest.mark.parametrize(("asked", "phrase"), [
    (datetime(2026, 11, 25, 8, 0, tzinfo=UTC), "Earlier today"),
    (datetime(2026, 11, 24, 16, 0, tzinfo=UTC), "Yesterday"),
    (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "On Monday"),
    (datetime(2026, 11, 18, 9, 0, tzinfo=UTC), "Last week"),
    (datetime(2026, 11, 3, 9, 0, tzinfo=UTC), "On 3 November"),
    (datetime(2025, 12, 30, 9, 0, tzinfo=UTC), "On 30 December 2025"),
])
def test_when_a_learner_asked_in_their_own_words(asked, phrase):
    wednesday = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert when_asked(asked, wednesday, "Europe/Amsterdam") == phrase


def test_late_evening_counts_in_the_learners_time_zone():
    asked = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # already Wednesday in Amsterdam
    assert when_asked(asked, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "Europe/Amsterdam") == "Earlier today"
    assert when_asked(asked, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "America/New_York") == "Yesterday"
