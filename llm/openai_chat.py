"""A ChatModel on any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp) through
langchain-openai.

One wall-clock deadline per question covers waiting for a slot, connecting, the first token, the whole stream and
any retries. The stream is read on an event loop of its own, so at the deadline, or when the caller cancels (the
learner's request went away), reading stops at once and the connection is closed: the server sees its client go and
stops generating, even if it still sends a token a second. Output is bounded: a token limit in the parameter the
endpoint honours (OpenAI's `max_completion_tokens`; `max_tokens` for the compatible servers, some of which ignore the
other), stop sequences where the endpoint allows them, and the limit enforced here as the stream arrives.
Timeouts, 429s, 5xx, dropped connections and broken streams (reset, incomplete chunked read, invalid SSE) are
retried with backoff while the deadline allows; then ModelUnavailable, and the core falls back to quoting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import threading
import time
from typing import Callable
from urllib.parse import urlparse

import httpx
import openai
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from kernel.errors import ModelUnavailable
from kernel.tracing import request_id
from coach.ports import Cancel, Completion

RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError,
             httpx.TransportError, json.JSONDecodeError)  # the last two: a stream broken half-way
# where the prompt allows: the passages are wrapped in these, so an answer that starts reciting them stops there
STOP = ["<passage>", "</passage>"]
POLL_S = 0.05  # how often a waiting call looks at the deadline and the cancel flag
CHARS_PER_TOKEN = 8  # the text bound beside the token limit, for servers whose chunks are not single tokens


class OpenAIChatModel:
    def __init__(self, *, base_url: str, api_key: str, model: str, temperature: float = 0.0, max_tokens: int = 400,
                 concurrency: int = 4) -> None:
        self.name, self.max_tokens = model, max_tokens
        official = _official_openai(base_url)
        # every call streams through a client of its own (see _stream); without a sync client given, langchain
        # builds one per call and caches it per distinct timeout (128 of them, each with its TLS context and pool:
        # ~150 MB of native memory that bench.load saw as RSS growth): one, never used, serves every call instead
        self._settings = dict(base_url=base_url, api_key=api_key or "not-needed", model=model,
                              temperature=temperature, max_retries=0, stream_usage=True, http_client=httpx.Client())
        # OpenAI refuses `max_tokens` beside `max_completion_tokens` (and reasoning models refuse both `max_tokens`
        # and `stop`); llama-cpp-python and older servers ignore `max_completion_tokens`
        self._limits = dict(max_tokens=max_tokens) if official else \
            dict(extra_body={"max_tokens": max_tokens}, stop=STOP)
        self.slots = Slots(concurrency)
        ChatOpenAI(**self._settings, **self._limits)  # its first construction loads modules for seconds: not on a question

    def complete(self, system: str, user: str, *, on_delta: Callable[[str], None] | None = None,
                 budget_s: float = 20.0, cancel: Cancel | None = None) -> Completion:
        deadline = time.monotonic() + budget_s
        if not self.slots.acquire(deadline, budget_s, cancel):
            raise ModelUnavailable("the language model is busy with other questions", outcome="busy")
        try:
            coroutine = self._complete(system, user, on_delta, deadline, budget_s, cancel)
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(coroutine)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from async code: a loop of its own
                return pool.submit(contextvars.copy_context().run, asyncio.run, coroutine).result()
        finally:
            self.slots.release(deadline)

    async def _complete(self, system, user, on_delta, deadline: float, budget_s: float,
                        cancel: Cancel | None) -> Completion:
        delay, last_error, progress = 0.5, None, _Progress()
        try:
            while (remaining := deadline - time.monotonic()) > 0.2:
                attempt = asyncio.ensure_future(self._stream(system, user, on_delta, remaining, progress))
                try:
                    return await _watch(attempt, deadline, cancel)
                except RETRYABLE as exc:
                    last_error = exc
                    wait = min(_retry_after(exc) or delay, deadline - time.monotonic() - 0.2)
                    if wait <= 0:
                        break
                    await _watch(asyncio.ensure_future(asyncio.sleep(wait)), deadline, cancel)
                    delay *= 2
                except openai.APIError as exc:  # 4xx other than 429: retrying will not help
                    raise ModelUnavailable(f"the language model refused the request ({exc.__class__.__name__})",
                                           output_tokens=progress.tokens) from exc
        except _Stopped as stop:  # the deadline or the cancel, while streaming or waiting to retry
            raise ModelUnavailable(stop.reason, outcome=stop.outcome, output_tokens=progress.tokens) from None
        outcome = "unavailable" if last_error else "budget"
        raise ModelUnavailable(f"the language model did not answer within {budget_s:.0f} s "
                               f"({last_error.__class__.__name__ if last_error else 'deadline'})",
                               outcome=outcome, output_tokens=progress.tokens)

    async def _stream(self, system: str, user: str, on_delta, remaining: float, progress: "_Progress") -> Completion:
        # a client of its own, closed on the way out whatever happens: that close is what tells the server to stop
        async with httpx.AsyncClient(timeout=httpx.Timeout(remaining, connect=min(remaining, 10.0))) as http:
            rid = request_id.get()  # the question's, so the model server's logs can be matched with ours
            client = ChatOpenAI(http_async_client=http, timeout=remaining, **self._settings, **self._limits,
                                default_headers={"X-Request-Id": rid} if rid else None)
            parts: list[str] = []
            usage, finish, chars = {}, "stop", 0
            async for chunk in client.astream([SystemMessage(system), HumanMessage(user)]):
                if chunk.content:
                    parts.append(str(chunk.content))
                    progress.tokens += 1
                    chars += len(parts[-1])
                    if on_delta:
                        on_delta("".join(parts))
                    if len(parts) > self.max_tokens or chars > self.max_tokens * CHARS_PER_TOKEN:
                        finish = "length"  # a server that ignored the limit: stop reading here
                        break
                if chunk.usage_metadata:
                    usage = chunk.usage_metadata
                finish = (chunk.response_metadata or {}).get("finish_reason") or finish
        return Completion("".join(parts), usage.get("input_tokens", 0), usage.get("output_tokens", len(parts)),
                          finish_reason=finish)


class Slots:
    """At most `size` calls at once towards the model. A call holds its slot until its own deadline at the latest,
    so a waiting call knows when one frees at the latest: it waits only while at least half its own budget would be
    left by then, and otherwise goes without (the core quotes instead)."""

    def __init__(self, size: int) -> None:
        self.size, self._held, self._changed = max(1, size), [], threading.Condition()

    def acquire(self, deadline: float, budget_s: float, cancel: Cancel | None = None) -> bool:
        with self._changed:
            while len(self._held) >= self.size:
                if min(self._held) > deadline - budget_s / 2 or (cancel is not None and cancel.is_set()):
                    return False
                self._changed.wait(timeout=POLL_S * 4)
            self._held.append(deadline)
            return True

    def release(self, deadline: float) -> None:
        with self._changed:
            self._held.remove(deadline)
            self._changed.notify()


class _Progress:
    tokens = 0  # streamed in all attempts, kept for the exchange record when the call gives up


class _Stopped(Exception):
    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


async def _watch(task: asyncio.Future, deadline: float, cancel: Cancel | None):
    """The task's result, or _Stopped at the deadline or on cancel, the task cancelled and its connection closed."""
    while True:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, min(POLL_S, deadline - time.monotonic())))
        if done:
            return task.result()
        stop = (_Stopped("cancelled", "the learner's request went away") if cancel is not None and cancel.is_set()
                else _Stopped("budget", "the language model ran out of its time budget")
                if time.monotonic() >= deadline else None)
        if stop is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # let it close its client
            raise stop


def _official_openai(base_url: str) -> bool:
    host = (urlparse(base_url).hostname or "").lower()
    return host == "api.openai.com" or host.endswith((".openai.azure.com", ".openai.com"))


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None
