"""The vector index's audience filter, on both of its paths (post-filtered over-fetch, and Chroma's own filter)."""

import chromadb
import numpy as np
from chromadb.config import Settings

from knowledge.vector_index import VectorIndex


def test_restricted_neighbours_never_come_back_even_when_they_crowd_the_top(tmp_path):
    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    index = VectorIndex(client, "test-model")
    rng = np.random.default_rng(1)
    query = rng.normal(size=16).astype(np.float32)
    near = query + rng.normal(scale=0.01, size=(30, 16))  # the 30 nearest are all for managers
    far = rng.normal(size=(70, 16))
    vectors = np.vstack([near, far]).astype(np.float32)
    audiences = [["managers"]] * 30 + [["everyone"]] * 70
    index.upsert([f"c{i}" for i in range(100)], vectors, ["s"] * 100, audiences)

    for_everyone = index.query(query, groups=[], n=10)  # over-fetch finds none allowed: Chroma filters
    assert len(for_everyone) == 10 and all(int(cid[1:]) >= 30 for cid, _ in for_everyone)
    for_managers = index.query(query, groups=["managers"], n=10)  # the fast path
    assert len(for_managers) == 10 and all(int(cid[1:]) < 30 for cid, _ in for_managers)
    assert index.query(query, groups=["hr"], n=200)[-1][0].startswith("c")  # more than exists: no error
    assert len(index.query(query, groups=[], n=200)) == 70
