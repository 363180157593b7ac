"""A ChatModel on any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Ollama, vLLM) through langchain-openai.

Answers stream token by token to `on_delta`, so a connector can update its placeholder. Timeouts, 429s, 5xx and
dropped connections are retried with backoff while the time budget lasts; then ModelUnavailable, and the core falls
back to the extractive answer.
"""

from __future__ import annotations

import time
from typing import Callable

import openai
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from kernel.errors import ModelUnavailable
from coach.ports import Completion

RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


class OpenAIChatModel:
    def __init__(self, *, base_url: str, api_key: str, model: str, temperature: float = 0.0) -> None:
        self.name = model
        self._settings = dict(base_url=base_url, api_key=api_key or "not-needed", model=model,
                              temperature=temperature, max_retries=0, stream_usage=True)

    def complete(self, system: str, user: str, *, on_delta: Callable[[str], None] | None = None,
                 budget_s: float = 20.0) -> Completion:
        deadline = time.monotonic() + budget_s
        delay, last_error = 0.5, None
        while (remaining := deadline - time.monotonic()) > 0.2:
            client = ChatOpenAI(timeout=remaining, **self._settings)
            try:
                return self._stream(client, system, user, on_delta)
            except RETRYABLE as exc:
                last_error = exc
                wait = min(_retry_after(exc) or delay, deadline - time.monotonic() - 0.2)
                if wait <= 0:
                    break
                time.sleep(wait)
                delay *= 2
            except openai.APIError as exc:  # 4xx other than 429: retrying will not help
                raise ModelUnavailable(f"the language model refused the request ({exc.__class__.__name__})") from exc
        raise ModelUnavailable(f"the language model did not answer within {budget_s:.0f} s ({last_error.__class__.__name__ if last_error else 'timeout'})")

    @staticmethod
    def _stream(client: ChatOpenAI, system: str, user: str, on_delta) -> Completion:
        parts: list[str] = []
        usage = {}
        for chunk in client.stream([SystemMessage(system), HumanMessage(user)]):
            if chunk.content:
                parts.append(str(chunk.content))
                if on_delta:
                    on_delta("".join(parts))
            if chunk.usage_metadata:
                usage = chunk.usage_metadata
        return Completion("".join(parts), usage.get("input_tokens", 0), usage.get("output_tokens", 0))


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None
