"""bench.load's topology on this machine: a fresh database on the local PostgreSQL server behind a TCP proxy the
bench cuts, a `chroma run` server, two `coach serve` replicas, one `coach worker`, and the servers' processes'
resident memory. Everything it starts it stops (`close()`), and the database it made it drops."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.proxy import TcpProxy

PG_HOST, PG_PORT, PG_ADMIN_DB = "127.0.0.1", 5432, "test"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (VmRSS), MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def tree_rss_mb(pid: int) -> float | None:
    """The process and its children (a launcher script may run the server in a child)."""
    own = rss_mb(pid)
    if own is None:
        return None
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return own + sum(tree_rss_mb(int(c)) or 0 for c in children)


def worker_has_port() -> bool:
    from coach.settings import Settings

    return any(f.alias == "COACH_WORKER_PORT" for f in Settings.model_fields.values())


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=PG_ADMIN_DB, autocommit=True,
                         connect_timeout=10) as connection:
        connection.execute(statement)


@dataclass
class Server:
    """One process of the topology, with what it was started with, so it can be started again the same way."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    probe: str  # a path answered with 200 once it is up
    log_path: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    ready_at: float = 0.0
    restarts: int = 0
    rss_from: tuple[float, float] | None = None  # (time, MB) the growth is measured from
    history: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self.log_file = open(self.log_path, "ab")
        self.log_file.write(f"\n===== start {time.strftime('%H:%M:%S')} =====\n".encode())
        self.log_file.flush()
        self.process = subprocess.Popen(self.command, env=os.environ | self.env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.started_at, self.ready_at = time.monotonic(), 0.0
        return self

    def wait_up(self, timeout: float = 300) -> float:
        """Seconds from start until the probe answered 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} stopped (exit {self.process.returncode}); see {self.log_path}:\n"
                                   + self.tail())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self.probe, timeout=2).status_code == 200:
                    self.ready_at = time.monotonic()
                    return self.ready_at - self.started_at
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} did not answer {self.probe} within {timeout:.0f} s:\n{self.tail()}")

    def up(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(self.url + self.probe, timeout=1).status_code == 200
        return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 30) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(AttributeError, OSError):
            self.log_file.close()

    def rss(self) -> float | None:
        return tree_rss_mb(self.process.pid) if self.process and self.process.poll() is None else None

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class Topology:
    def __init__(self, work: Path, *, slack_api_url: str, signing_secret: str, model_url: str, embedding_model: str,
                 lease_s: float, budget_s: float, extra_env: dict[str, str] | None = None) -> None:
        self.work = work
        self.database = f"coach_load_{os.getpid()}"
        self.db_created = False
        self.proxy: TcpProxy | None = None
        self.servers: dict[str, Server] = {}
        self.slack_api_url, self.secret, self.model_url = slack_api_url, signing_secret, model_url
        self.embedding_model, self.lease_s, self.budget_s = embedding_model, lease_s, budget_s
        self.extra_env = extra_env or {}

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.proxy.port}/{self.database}"

    def common_env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url, "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(self.servers["chroma"].port),
            "COACH_EMBEDDING_MODEL": self.embedding_model, "LLM_BASE_URL": self.model_url, "LLM_API_KEY": "bench",
            "LLM_MODEL": "bench-model", "LLM_BUDGET_S": str(self.budget_s),
            "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": self.secret, "SLACK_API_URL": self.slack_api_url,
            "COACH_QUESTIONS_PER_MINUTE": "0", "COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS": "0",
            "COACH_INBOX_LEASE_S": str(self.lease_s), "COACH_LOG_FORMAT": "json",
            "ADMIN_SECRET_KEY": "bench-load-admin-secret", "COACH_PUBLIC_URL": "http://127.0.0.1",
            "COACH_WORKER_SYNC_S": "5", "PYTHONUNBUFFERED": "1",
        } | self.extra_env

    def start(self) -> None:
        admin_sql(f'CREATE DATABASE "{self.database}"')
        self.db_created = True
        self.proxy = TcpProxy(PG_HOST, PG_PORT)
        log(f"database {self.database} through the proxy on port {self.proxy.port}")
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        port = free_port()
        self.servers["chroma"] = Server("chroma", [chroma, "run", "--path", str(self.work / "chroma"), "--port",
                                                   str(port)], {}, port, "/api/v2/heartbeat",
                                        self.work / "chroma.log").start()
        log(f"chroma up in {self.servers['chroma'].wait_up(120):.1f} s")
        for name, samples in (("app_a", "true"), ("app_b", "false")):
            port = free_port()
            env = self.common_env() | {"COACH_DATA_DIR": str(self.work / name), "COACH_RUN_WORKER": "false",
                                       "COACH_LOAD_SAMPLES": samples, "COACH_PORT": str(port)}
            self.servers[name] = Server(name, [sys.executable, "-m", "coach", "serve", "--port", str(port)], env,
                                        port, "/healthz", self.work / f"{name}.log").start()
            seconds = self.servers[name].wait_up(600)
            log(f"{name} up in {seconds:.1f} s" + (" (sample content loaded)" if samples == "true" else ""))
        port = free_port()
        env = self.common_env() | {"COACH_DATA_DIR": str(self.work / "worker"), "COACH_LOAD_SAMPLES": "false",
                                   "COACH_WORKER_PORT": str(port)}
        self.servers["worker"] = Server("worker", [sys.executable, "-m", "coach", "worker"], env, port, "/healthz",
                                        self.work / "worker.log").start()
        worker = self.servers["worker"]
        try:
            log(f"worker up in {worker.wait_up(60 if worker_has_port() else 1):.1f} s")
        except RuntimeError:
            if worker.process.poll() is not None:
                raise
            # no health endpoint on the worker (yet): up once it says so
            deadline = time.monotonic() + 300
            while "Worker started" not in worker.tail(200) and time.monotonic() < deadline:
                if worker.process.poll() is not None:
                    raise RuntimeError(f"the worker stopped:\n{worker.tail()}")
                time.sleep(0.5)
            worker.ready_at = time.monotonic()
            log(f"worker started in {worker.ready_at - worker.started_at:.1f} s (no /healthz on COACH_WORKER_PORT)")

    def replicas(self) -> list[Server]:
        return [self.servers["app_a"], self.servers["app_b"]]

    def ready(self, server: Server) -> int | None:
        """/readyz's status, or None when the process answers none (not there yet, or not reachable)."""
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(server.url + "/readyz", timeout=3).status_code
        return None

    def mark_rss(self) -> None:
        for server in self.servers.values():
            if (value := server.rss()) is not None:
                server.rss_from = (time.monotonic(), value)

    def rss_growth(self) -> dict:
        growth = {}
        for name, server in self.servers.items():
            now = server.rss()
            if server.rss_from and now is not None:
                growth[name] = round(now - server.rss_from[1], 1)
        return growth

    def rss_now(self) -> dict:
        return {name: round(v, 1) for name, s in self.servers.items() if (v := s.rss()) is not None}

    def restart(self, name: str, *, kill: bool) -> float:
        """Kill (SIGKILL) or stop (SIGTERM) a server and start it again at once; seconds until its probe answers."""
        server = self.servers[name]
        (server.kill if kill else server.stop)()
        server.restarts += 1
        server.start()
        seconds = server.wait_up(600)
        if (value := server.rss()) is not None:
            server.rss_from = (time.monotonic(), value)  # a new process: its growth is measured from its start
        return seconds

    def close(self) -> None:
        for server in reversed(list(self.servers.values())):
            with contextlib.suppress(Exception):
                server.stop(20)
        if self.proxy:
            with contextlib.suppress(Exception):
                self.proxy.close()
        if self.db_created:
            try:
                admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                log(f"database {self.database} dropped")
            except Exception as exc:  # noqa: BLE001 - said, never hidden
                log(f"could not drop the database {self.database}: {exc}")
