"""The product as a customer installs it: run with the Python of a fresh venv that holds only the built wheel and its
declared (runtime) dependencies, from outside the repository, so nothing of the checkout can stand in for what the
wheel lacks. Standard library only.

Checks: the wheel holds every file git tracks in the packages; `coach serve` starts on its embedded defaults, loads
the sample content, serves the web chat and a health endpoint and answers a sample question with a citation;
`coach worker` starts and dispatches; both stop cleanly on SIGTERM. Exit 1 with what failed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["coach", "connectors", "knowledge", "llm", "prompts", "bench", "examples"]
START_S = 600  # the first start embeds the sample content on a shared, busy machine


def main(wheel: str) -> None:
    check_wheel(Path(wheel))
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="coach-smoke-") as folder:
        env = clean_env(Path(folder) / "data")
        port = free_port()
        serve = start([str(bin_dir / "coach"), "serve", "--port", str(port)], env, folder)
        worker = None
        try:
            wait_for(serve, f"http://127.0.0.1:{port}/healthz")
            health = get_json(f"http://127.0.0.1:{port}/healthz")
            expect(health.get("status") == "ok" and health.get("sources", 0) >= 5, f"/healthz answered {health}")
            page = get(f"http://127.0.0.1:{port}/")
            expect("Learning coach" in page and "/static/chat.js" in page, "/ is not the web chat page")
            expect("function" in get(f"http://127.0.0.1:{port}/static/chat.js"), "the web chat's script is missing")
            reply = post_json(f"http://127.0.0.1:{port}/api/ask", {"question": "What is the mileage rate?"})
            titles = [c.get("title", "") for c in reply.get("citations", [])]
            expect(not reply.get("abstained") and "[1]" in reply.get("answer", "")
                   and any("xpense" in t for t in titles), f"the sample question was not answered from the samples: {reply}")
            worker = start([str(bin_dir / "coach"), "worker"], env, folder)
            wait_for_line(worker, "Dispatching nudges")
        finally:
            if worker:
                stop(worker, "coach worker", "Stopped.")
            stop(serve, "coach serve", "Application shutdown complete.")
    print("runtime smoke: the wheel holds its files; coach serve answered from the samples; coach worker "
          "dispatched; both stopped cleanly")


def check_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files", *PACKAGES], capture_output=True, text=True,
                             check=True).stdout.split()
    missing = [name for name in tracked if name not in names]
    expect(not missing, f"the wheel lacks files the product reads ({', '.join(missing[:10])}): add them to "
                        "[tool.setuptools.package-data] in pyproject.toml")


def clean_env(data: Path) -> dict:
    """The defaults a new user gets: no platform, model or database settings from this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "MICROSOFT_", "LLM_",
                                                                     "EMBEDDINGS_", "CHROMA_", "TEAMS_"))}
    env.pop("DATABASE_URL", None)
    return {**env, "COACH_DATA_DIR": str(data), "COACH_RUN_WORKER": "false", "PYTHONUNBUFFERED": "1"}


def start(command: list[str], env: dict, cwd: str) -> subprocess.Popen:
    """Output goes to a file (a pipe nobody reads would fill and stall the server)."""
    log = Path(cwd) / f"{Path(command[0]).name}-{command[1]}.log"
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    process.log = log
    return process


def stop(process: subprocess.Popen, name: str, farewell: str) -> None:
    """Clean: it says `farewell` and exits 0, or re-raises the SIGTERM after its shutdown as uvicorn does."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        fail(f"{name} did not stop within 60 s of SIGTERM:\n{process.log.read_text()}")
    output = process.log.read_text()
    if process.returncode not in (0, -signal.SIGTERM) or farewell not in output:
        fail(f"{name} did not stop cleanly on SIGTERM (exit code {process.returncode}):\n{output}")


def wait_for(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"the process ended with {process.returncode} before answering {url}:\n{process.log.read_text()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(1)
    fail(f"{url} did not answer within {START_S} s:\n{process.log.read_text()}")


def wait_for_line(process: subprocess.Popen, text: str) -> None:
    deadline = time.monotonic() + START_S
    while text not in process.log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            fail(f"no {text!r} from the process (exit code {process.poll()}):\n{process.log.read_text()}")
        time.sleep(0.5)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode()


def get_json(url: str) -> dict:
    return json.loads(get(url))


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expect(condition: bool, problem: str) -> None:
    if not condition:
        fail(problem)


def fail(problem: str) -> None:
    print(f"runtime smoke FAILED: {problem}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
