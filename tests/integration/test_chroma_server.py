"""With CHROMA_HOST set, vectors live in a Chroma server (`chroma run`) instead of the embedded index."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from coach.bootstrap import bootstrap
from tests.conftest import free_port, make_settings, write_content


@pytest.fixture
def chroma_server(tmp_path):
    executable = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    process = subprocess.Popen([executable, "run", "--path", str(tmp_path / "chroma-server"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise AssertionError("chroma run did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_knowledge_base_on_a_chroma_server(tmp_path, embedder, chroma_server):
    settings = make_settings(tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_server)
    kb = bootstrap(settings, embedder=embedder).knowledge
    kb.ingest([write_content(tmp_path / "content")])
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded locally
    assert kb.search("book a course with my training budget")[0].title == "Training budget"
    assert all("3.5" not in p.text for p in kb.search("merit budget salary", k=10))
    assert kb.ingestor.vectors.count() == len(kb.ingestor.vectors.all_ids()) > 0
