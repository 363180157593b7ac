"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: /v1/embeddings and /v1/chat/completions (plain and
streamed as server-sent events in chunked transfer encoding, as real servers send them), with scripted answers,
errors, delays and stream faults (a drip that never ends, a cut half-way, a broken event); it records every request,
and every stream its client closed before the end."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIMENSIONS = 32


def fake_embedding(text: str) -> list[float]:
    """Bag of hashed words: deterministic, and similar texts get similar vectors."""
    vector = np.zeros(DIMENSIONS)
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1
    return (vector / max(np.linalg.norm(vector), 1e-9)).tolist()


@dataclass
class Scripted:
    """One chat answer: its text, or an error status; optionally after a delay (seconds)."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    retry_after: str | None = None
    word_delay: float = 0.0  # between streamed words, so a client sees the answer arrive in parts
    drip: bool = False  # the streamed words repeat for ever (every word_delay), as a runaway or stuck server does
    cut_after: int | None = None  # the connection drops after this many words, mid-chunk (a killed server)
    broken_after: int | None = None  # an event that is not JSON after this many words


def _words(words: list[str], drip: bool):
    while True:
        yield from words
        if not drip:
            return


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_next: list[int] = []  # status codes to answer before succeeding
        self.chat: list[Scripted] = []  # answers to chat completions, in order; the last one repeats
        self.abandoned: list[int] = []  # per stream the client closed before its end: the words sent until then
        self.streaming = 0  # streams being sent now
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models, as every OpenAI-compatible server lists its models
                if self.path.rstrip("/").endswith("/models"):
                    self._reply(200, {"object": "list", "data": [{"id": "coach-model", "object": "model"}]})
                else:
                    self._reply(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "body": body, "authorization": self.headers.get("Authorization"),
                                      "request_id": self.headers.get("X-Request-Id")})
                if fake.fail_next:
                    self._reply(fake.fail_next.pop(0), {"error": {"message": "try again", "type": "server_error"}})
                elif self.path.endswith("/chat/completions"):
                    self._chat(body, fake.chat.pop(0) if len(fake.chat) > 1 else fake.chat[0])
                elif self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": fake_embedding(t)} for i, t in enumerate(inputs)]
                    self._reply(200, {"object": "list", "data": data, "model": body["model"],
                                      "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                else:
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})

            def _chat(self, body: dict, scripted: Scripted) -> None:
                time.sleep(scripted.delay)
                if scripted.status != 200:
                    headers = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
                    self._reply(scripted.status, {"error": {"message": "scripted failure", "type": "server_error"}},
                                headers)
                    return
                usage = {"prompt_tokens": 120, "completion_tokens": len(scripted.text.split()), "total_tokens": 0}
                if not body.get("stream"):
                    self._reply(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": scripted.text}}],
                                      "usage": usage})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                fake.streaming += 1
                sent = 0
                try:
                    words = scripted.text.split(" ")
                    for n, word in enumerate(_words(words, scripted.drip)):
                        if n == scripted.cut_after:
                            self.wfile.write(b"40\r\ndata: {\"id\"")  # a chunk announced, never finished
                            self.wfile.flush()
                            self.close_connection = True
                            return
                        if n == scripted.broken_after:
                            self._chunk(b"data: {not json\n\n")
                        time.sleep(scripted.word_delay)
                        delta = {"content": word + (" " if scripted.drip or n < len(words) - 1 else "")}
                        self._event({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
                                     "model": body["model"],
                                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                        sent += 1
                    self._event({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
                                 "model": body["model"], "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    if body.get("stream_options", {}).get("include_usage"):
                        self._event({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
                                     "model": body["model"], "choices": [], "usage": usage})
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    fake.abandoned.append(sent)
                    self.close_connection = True
                finally:
                    fake.streaming -= 1

            def _event(self, payload: dict) -> None:
                self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Whether every stream has ended (sent whole, or closed by its client) within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.streaming and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.streaming == 0

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
