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


def run_chroma(path: Path, port: int) -> subprocess.Popen:
    executable = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    process = subprocess.Popen([executable, "run", "--path", str(path), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise AssertionError("chroma run did not start")


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    servers = [run_chroma(tmp_path / "chroma-server", port)]
    yield port
    for process in servers:
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


def test_a_chroma_server_restarting_is_waited_for_not_apologised_for(tmp_path, embedder):
    """A search while the Chroma server restarts (stopped, started again a second later on the same folder) waits
    for it and finds the same passages, instead of failing the learner's question."""
    import threading

    port, path = free_port(), tmp_path / "chroma-server"
    servers, restarting = [run_chroma(path, port)], None
    try:
        kb = bootstrap(make_settings(tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port), embedder=embedder).knowledge
        kb.ingest([write_content(tmp_path / "content")])
        before = [p.title for p in kb.search("book a course with my training budget")]
        servers[0].terminate()
        servers[0].wait(timeout=30)
        restarting = threading.Thread(target=lambda: (time.sleep(1.0), servers.append(run_chroma(path, port))))
        restarting.start()
        during = [p.title for p in kb.search("book a course with my training budget")]
        restarting.join()
        assert during == before and before[0] == "Training budget"
    finally:
        if restarting:
            restarting.join()  # the restarted server too is stopped below, whatever the search did
        for process in servers:
            process.terminate()
            process.wait(timeout=30)
