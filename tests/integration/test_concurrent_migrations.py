"""Replicas starting together on one empty PostgreSQL database each run the migrations on start: they take turns
(an advisory lock), so every one of them starts; without it, one fails on the tables the other is creating."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import inspect

from kernel.store import make_engine
from tests.conftest import REPO

MIGRATE = """
import sys, time
from coach.store.db import migrate
from kernel.store import make_engine
engine = make_engine(sys.argv[1])
with engine.connect():
    pass  # connected: now wait for the others, then all migrate at once
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(engine)
"""


def test_replicas_migrating_one_empty_database_at_once_all_succeed(postgres_url):
    at = time.time() + 8  # after every process has imported and connected
    replicas = [subprocess.Popen([sys.executable, "-c", MIGRATE, postgres_url, str(at)], cwd=REPO,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(replica.wait(120), replica.stderr.read()) for replica in replicas]
    assert [code for code, _ in outcomes] == [0, 0, 0], [err[-2000:] for _, err in outcomes]
    engine = make_engine(postgres_url)
    assert {"inboxevent", "need", "alembic_version"} <= set(inspect(engine).get_table_names())
    engine.dispose()
