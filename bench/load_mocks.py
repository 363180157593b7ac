"""The mock OpenAI-compatible model of bench.load: it answers from the prompt's own passages, so its answers pass the
coach's checks and are shown (the model path, not the quoted fallback), and it can be told to stall.

An answer quotes the first sentence of at least four words (not a question) of passage [1] and cites it ("... [1]"),
streamed word by word (`word_delay` apart: a real model takes a while, so answers are in flight when a replica is
killed). While stalled, a request is accepted and then nothing is sent until the stall ends (the coach's budget
runs out first and it answers with the quoted fallback); when the stall ends, held requests are answered normally
(their clients have gone). Counts requests, streams completed, and requests that arrived while stalled.
`GET /v1/models` lists the model (a readiness probe may ask it).

tests/fakes/openai_api.py's FakeOpenAI scripts fixed answers, which the coach's support check refuses for real
passages, so this one is built here on the same server-sent-events framing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PASSAGE = re.compile(r"\[1\][^\n]*\n<passage>\n(.*?)\n</passage>", re.S)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def quoted_answer(system: str) -> str:
    """The first sentence of passage [1] with four words or more, cited; NOT_COVERED when there is no passage."""
    found = _PASSAGE.search(system)
    if not found:
        return "NOT_COVERED"
    for sentence in _SENTENCE.split(found.group(1)):
        sentence = re.sub(r"^(?:A\.|Q\d+\.)\s*", "", sentence.strip().lstrip("#-*> ").strip())
        if len(re.findall(r"\w+", sentence)) >= 4 and "|" not in sentence and not sentence.endswith("?"):
            return sentence.rstrip(".!?") + ". [1]"
    return "NOT_COVERED"


class StallableModel:
    def __init__(self, word_delay: float = 0.05) -> None:
        self.word_delay = word_delay
        self.lock = threading.Lock()
        self.unstalled = threading.Event()
        self.unstalled.set()
        self.requests = self.completed = self.stalled_requests = self.abandoned = 0
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._reply(200, {"object": "list", "data": [{"id": "bench-model", "object": "model"}]})
                else:
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with model.lock:
                    model.requests += 1
                    if not model.unstalled.is_set():
                        model.stalled_requests += 1
                model.unstalled.wait()
                system = next((m["content"] for m in body.get("messages", []) if m.get("role") == "system"), "")
                text = quoted_answer(system if isinstance(system, str) else json.dumps(system))
                try:
                    self._answer(body, text)
                    with model.lock:
                        model.completed += 1
                except (BrokenPipeError, ConnectionResetError):
                    with model.lock:
                        model.abandoned += 1
                    self.close_connection = True

            def _answer(self, body: dict, text: str) -> None:
                usage = {"prompt_tokens": 1500, "completion_tokens": len(text.split()), "total_tokens": 0}
                name = body.get("model", "bench-model")
                if not body.get("stream"):
                    time.sleep(model.word_delay * len(text.split()))
                    self._reply(200, {"id": "chatcmpl-bench", "object": "chat.completion", "created": 0,
                                      "model": name, "usage": usage,
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": text}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                words = text.split(" ")
                for n, word in enumerate(words):
                    time.sleep(model.word_delay)
                    delta = {"content": word + (" " if n < len(words) - 1 else "")}
                    self._event({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0,
                                 "model": name, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                self._event({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": name,
                             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if body.get("stream_options", {}).get("include_usage"):
                    self._event({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0,
                                 "model": name, "choices": [], "usage": usage})
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _event(self, payload: dict) -> None:
                self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda *args: None  # a client that went away (the coach's budget ran out)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stall(self) -> None:
        self.unstalled.clear()

    def resume(self) -> None:
        self.unstalled.set()

    def close(self) -> None:
        self.unstalled.set()
        self._server.shutdown()
        self._server.server_close()
