"""Real LRSs on loopback for the tests and bench.xapi (what was verified of each: ../shared/notes/xapi.md).

- Ralph (PyPI), in its own venv (`make lrs`): persistent on disk, real Basic auth; stop and start it to make an
  outage. Known gaps: no verb/activity filters, no voiding, no version header check.
- Learning Locker's `xapi-statements` (npm): spec-strict (voiding, the version header, conflicts, filters), but in
  memory and accepting any credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RALPH_VENV = ROOT / ".lrs" / "ralph"
XAPI_STATEMENTS = Path(__file__).resolve().parent / "xapi-statements"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> str:
    """Why the LRSs cannot run here ("" when they can)."""
    if not (RALPH_VENV / "bin" / "uvicorn").exists():
        return f"Ralph is not installed in {RALPH_VENV}: run `make lrs`"
    if not (XAPI_STATEMENTS / "node_modules" / "xapi-statements").exists():
        return f"xapi-statements is not installed in {XAPI_STATEMENTS}: run `make lrs`"
    if shutil.which("node") is None:
        return "Node.js is not installed (xapi-statements runs on it)"
    return ""


class Lrs:
    """One LRS process; `stop()` and `start()` again (Ralph keeps its statements across)."""

    username = "coach"
    password = "lrs-secret"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir, self.port = workdir, port or free_port()
        self.process: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def command(self) -> tuple[list[str], dict, str]:
        raise NotImplementedError

    def start(self, timeout_s: float = 30.0) -> "Lrs":
        argv, env, cwd = self.command()
        log = (self.workdir / "lrs.log").open("ab")
        self.process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=log, stderr=log,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the LRS exited: {(self.workdir / 'lrs.log').read_text()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}{self.ready_path}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the LRS did not answer within {timeout_s} s")

    ready_path = "/"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def __enter__(self) -> "Lrs":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- reading back ------------------------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.endpoint, auth=(self.username, self.password), timeout=60,
                            headers={"X-Experience-API-Version": "1.0.3"})

    def statements(self, **params) -> list[dict]:
        """Every statement the LRS returns for these filters, following `more`."""
        found: list[dict] = []
        with self.client() as client:
            response = client.get("statements", params={"limit": 1000, **params})
            while True:
                response.raise_for_status()
                body = response.json()
                found += body["statements"]
                more = body.get("more")
                if not more:
                    return found
                response = client.get(httpx.URL(f"http://127.0.0.1:{self.port}").join(more))


class Ralph(Lrs):
    ready_path = "/__heartbeat__"

    def command(self) -> tuple[list[str], dict, str]:
        app_dir, data_dir = self.workdir / "app", self.workdir / "data"
        app_dir.mkdir(exist_ok=True)
        data_dir.mkdir(exist_ok=True)
        auth = app_dir / "auth.json"
        if not auth.exists():
            python = RALPH_VENV / "bin" / "python"
            hashed = subprocess.check_output([str(python), "-c", "import bcrypt, sys; print(bcrypt.hashpw("
                                              "sys.argv[1].encode(), bcrypt.gensalt(4)).decode())", self.password],
                                             text=True).strip()
            auth.write_text(json.dumps([{"agent": {"mbox": f"mailto:{self.username}@example.com"},
                                         "scopes": ["all"], "username": self.username, "hash": hashed}]))
        env = {"RALPH_APP_DIR": str(app_dir), "RALPH_RUNSERVER_BACKEND": "fs",
               "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data_dir), "PYTHONPATH": str(HERE)}
        return ([str(RALPH_VENV / "bin" / "uvicorn"), "ralph_app:app", "--host", "127.0.0.1", "--port",
                 str(self.port), "--log-level", "warning"], env, str(HERE))

    @property
    def endpoint(self) -> str:  # Ralph serves the statements resource at /xAPI/statements
        return f"http://127.0.0.1:{self.port}/xAPI/"


class XapiStatements(Lrs):
    ready_path = "/xAPI/about"

    def command(self) -> tuple[list[str], dict, str]:
        env = {"EXPRESS_PORT": str(self.port), "AUTH_REPO": "test", "EVENTS_REPO": "test", "MODELS_REPO": "memory",
               "STORAGE_REPO": "local", "FS_LOCAL_STORAGE_DIR": str(self.workdir),
               "EXPRESS_MORGAN_DIRECTORY": str(self.workdir / "logs")}
        return (["node", str(XAPI_STATEMENTS / "node_modules" / "xapi-statements" / "dist" / "index.js")], env,
                str(XAPI_STATEMENTS))


if __name__ == "__main__":  # a quick look: python -m tests.lrs.servers ralph|xapi-statements
    kind = Ralph if sys.argv[1:] == ["ralph"] else XapiStatements
    with kind(Path(os.environ.get("TMPDIR", "/tmp")) / f"lrs-{os.getpid()}") as lrs:
        print(lrs.endpoint, "up; Ctrl-C stops it")
        signal.pause()
