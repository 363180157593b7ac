"""Exactly once across replicas: two processes' engines racing to claim the same Slack event on one database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from coach import seen
from kernel.store import make_engine
from coach.store.db import migrate


@pytest.mark.postgres
def test_only_one_replica_claims_an_event(database_url):
    replicas = [make_engine(database_url) for _ in range(2)]
    migrate(replicas[0])
    keys = [f"slack:msg:T1:C1:{n}" for n in range(20)]
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda job: seen.first_time(replicas[job % 2], keys[job // 4]), range(80)))
    assert claims.count(True) == 20  # every event claimed exactly once, by whichever replica came first
    assert all(seen.seen(replicas[1], key) for key in keys) and not seen.seen(replicas[0], "slack:msg:T1:C1:x")
    assert seen.forget_older_than(replicas[0], days=30) == 0  # fresh claims are kept
    for engine in replicas:
        engine.dispose()
