"""Shared fixtures: a clean environment per test, real SQLite/PostgreSQL, real Chroma, the real embedding model."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from coach.bootstrap import bootstrap
from coach.settings import Settings
from knowledge.embeddings import MiniLMEmbedder

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("COACH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_SETTING_PREFIXES = ("COACH_", "SLACK_", "MICROSOFT_", "OPENAI_", "EMBEDDINGS_", "CHROMA_", "DATABASE_URL", "LLM_",
                     "ADMIN_", "TEAMS_", "XAPI_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No platform tokens or real data dirs leak in: settings come from the test alone."""
    for name in list(os.environ):
        if name.startswith(_SETTING_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # so no developer `.env` is read
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_RUN_WORKER", "false")  # tests that want the nudge worker in the app turn it on
    # the English-only model where language does not matter (6x cheaper to index); tests of Dutch set e5 themselves
    monkeypatch.setenv("COACH_EMBEDDING_MODEL", "minilm")


@pytest.fixture(scope="session")
def embedder():
    return MiniLMEmbedder(threads=1)


class HashingEmbedder:
    """A different, deterministic embedding model (bag of hashed words), to test model changes."""

    name = "test-hashing-64"

    def embed_passages(self, texts):
        return np.stack([self.embed_query(t) for t in texts]) if texts else np.zeros((0, 64), np.float32)

    def embed_query(self, text):
        vector = np.zeros(64, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
        return vector / max(float(np.linalg.norm(vector)), 1e-9)


BUDGET = """---
title: Training budget
---
# Training budget
Every employee has a training budget of 1,200 euros per calendar year.

## Booking
Book courses in the L&D portal; your manager approves requests above 500 euros.
"""
PHISHING = "How to report phishing\n\nForward suspicious e-mails to security@example.com within one hour."
SALARY = "# Salary review\nThe merit budget is 3.5 percent of base salary. Conversations run in March."


def write_content(root: Path) -> Path:
    (root / "hr").mkdir(parents=True)
    (root / "hr" / "budget.md").write_text(BUDGET)
    (root / "security.txt").write_text(PHISHING)
    (root / "hr" / "salary.md").write_text(SALARY)
    (root / "hr" / "salary.md.meta.yaml").write_text("audience: [managers]\nowner: reward@example.com\n")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(tmp_path: Path, **values) -> Settings:
    return Settings(COACH_DATA_DIR=tmp_path / "data", COACH_LOAD_SAMPLES=False, **values)


@pytest.fixture
def container(tmp_path, embedder):
    return bootstrap(make_settings(tmp_path), embedder=embedder)


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL server answers at {PG_ADMIN_URL} ({exc}); start one or set COACH_TEST_PG_URL"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must run these, never skip them
        pytest.skip(reason)


@pytest.fixture
def postgres_url():
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    import psycopg

    _postgres_or_skip()
    name = f"coach_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium():
    """Debian's Chromium driven by Playwright (no browser download); skipped without it, failed on CI."""
    if not CHROMIUM:
        reason = "no Chromium installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@contextmanager
def served(app) -> Iterator[str]:
    """The app on uvicorn on loopback in a thread, for a real browser: yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
