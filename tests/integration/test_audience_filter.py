"""A learner never receives a chunk whose audience they are not in: many random queries, every retrieval mode."""

from __future__ import annotations

import random

from knowledge.documents import ParsedDocument, Section
from knowledge.ingest import DocumentItem
from knowledge.metadata import SourceMeta

GROUPS = ["managers", "hr", "finance", "engineering", "contractors"]
WORDS = ("budget salary review expenses travel hotel mileage phishing password laptop feedback coaching "
         "onboarding holiday contract pension promotion training course manager team report policy claim "
         "approval deadline security incident customer refund escalation mentoring goals").split()


def test_random_queries_never_leak_restricted_chunks(container):
    rng = random.Random(20261123)
    kb = container.knowledge
    items, audiences = [], {}
    for n in range(120):
        audience = tuple(rng.sample(GROUPS, rng.choice([1, 1, 2]))) if rng.random() < 0.6 else ()
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        key = f"doc-{n}"
        audiences[key] = set(audience) or {"everyone"}
        items.append(DocumentItem(key=key, document=ParsedDocument(f"Document {n}", "text", [Section(text)]),
                                  meta=SourceMeta(audience=audience), content_hash=str(n)))
    kb.ingestor.ingest_documents(items)

    checked = 0
    for _ in range(300):
        groups = rng.sample(GROUPS, rng.randint(0, 2))
        query = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        allowed = set(groups) | {"everyone"}
        for mode in ("hybrid", "dense", "keyword"):
            for passage in kb.search(query, groups=groups, k=10, mode=mode):
                assert audiences[passage.source_key] & allowed, (query, groups, passage.source_key)
                checked += 1
        # the layers underneath filter too, not only the final database check
        vector = kb.retriever.embedder.embed_query(query)
        for chunk_id, _ in kb.retriever.vectors.query(vector, groups=groups, n=20):
            assert chunk_id in allowed_chunks(kb, allowed)
        for chunk_id, _ in kb.retriever.keyword.query(query, groups=groups, n=20):
            assert chunk_id in allowed_chunks(kb, allowed)
    assert checked > 3000  # the property was exercised, not vacuously true


_cache: dict = {}


def allowed_chunks(kb, allowed: set[str]) -> set[str]:
    key = (id(kb), frozenset(allowed))
    if key not in _cache:
        from sqlmodel import select

        from kernel.store import session
        from knowledge.models import Chunk

        with session(kb.engine) as db:
            _cache[key] = {c.id for c in db.exec(select(Chunk)).all() if set(c.audience) & allowed}
    return _cache[key]
