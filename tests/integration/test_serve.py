"""`coach serve` as a real process on the embedded defaults: sample content loaded on first start, once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from tests.conftest import REPO, free_port


def start(tmp_path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env["COACH_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_ready(process: subprocess.Popen, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"coach serve exited: {process.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("coach serve did not answer /healthz in time")


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return output


def test_serve_loads_samples_once_and_answers(tmp_path):
    port = free_port()
    process = start(tmp_path, port)
    try:
        wait_ready(process, port)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json()["sources"] == 10
        hits = httpx.get(f"{base}/api/search", params={"q": "How do I report a phishing email?"}).json()
        assert hits[0]["doc_type"] == "docx" and "security@northwindloom.example" in " ".join(h["text"] for h in hits)
        with httpx.Client(follow_redirects=True) as browser:  # asked, then shown on the page it redirects to
            page = browser.get(base, params={"q": "merit budget salary review"}).text
        assert "3.5%" not in page and "Learning coach" in page  # the web page is everyone's: nothing restricted
        assert httpx.get(f"{base}/api/search", params={"q": ""}).status_code == 422
        # while it serves from the embedded index, a second writer is refused with what to do
        env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}
        busy = subprocess.run([sys.executable, "-m", "coach", "ingest", str(REPO / "examples")], env=env,
                              cwd=tmp_path, capture_output=True, text=True)
        assert busy.returncode == 3 and "Stop it and run this again" in " ".join(busy.stderr.split())
    finally:
        output = stop(process)
    assert "added 10" in output

    assert (tmp_path / "data" / "coach.db").exists() and (tmp_path / "data" / "chroma").is_dir()
    process = start(tmp_path, port)
    try:
        wait_ready(process, port)
    finally:
        output = stop(process)
    assert "Loading the sample content" not in output


def test_python_dash_m_coach_help():
    result = subprocess.run([sys.executable, "-m", "coach", "--help"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0
    for command in ("serve", "ingest", "remove", "sources", "search", "reindex", "learners"):
        assert command in result.stdout
