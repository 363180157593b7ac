"""The small ports the core talks to; adapters in llm/ and connectors/ implement them. The retrieval port, which
the knowledge base implements, is in the shared kernel (kernel/ports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from coach.messages import Reply


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str = "stop"  # "length": the model ran to its token limit, so the text is cut off


class Cancel(Protocol):
    """Set when the learner's request went away (a threading.Event does): the model call stops and frees the model."""

    def is_set(self) -> bool: ...


class ChatModel(Protocol):
    """A chat model behind any OpenAI-compatible endpoint. Raises ModelUnavailable (with its `outcome`: unavailable,
    budget, busy, cancelled) when it cannot answer within `budget_s` of wall-clock time, retries included."""

    name: str

    def complete(self, system: str, user: str, *, on_delta: Callable[[str], None] | None = None,
                 budget_s: float = 20.0, cancel: Cancel | None = None) -> Completion: ...


@dataclass(frozen=True)
class SendResult:
    """How a proactive send went: delivered, or why not and whether trying again later may help."""

    delivered: bool
    retry_after: float | None = None  # throttled or the platform failed for now: worth another try after this long
    reason: str = ""  # e.g. "the coach has never met this learner on Teams"


class Delivery(Protocol):
    """Sends a reply to a learner's personal chat without being asked (nudges, lessons, answers to closed gaps).
    `key` identifies this one delivery, so a platform that can remember it makes a retry after a crash safe."""

    platform: str

    async def send(self, learner_id: str, reply: Reply, key: str) -> SendResult: ...

    async def was_sent(self, learner_id: str, key: str) -> bool | None:
        """Whether the delivery with this key reached the learner (None: the platform cannot tell)."""
        ...


@dataclass(frozen=True)
class LrsResult:
    """How a POST of statements to the LRS went. `stored`: the LRS acknowledged them all. `reached`: the request
    may have arrived (a timeout, a 5xx), so what it held must be looked up before it is sent again."""

    stored: bool
    status: int | None = None  # the HTTP status, None when no answer came
    retry_after: float | None = None  # the LRS's Retry-After
    reason: str = ""
    reached: bool = False


class Lrs(Protocol):
    """The company's learning record store (xAPI 1.0.3 statements resource)."""

    async def post(self, statements: list[dict]) -> LrsResult: ...

    async def has(self, statement_id: str) -> bool | None:
        """Whether the LRS holds a statement with this id (None: it could not be asked)."""
        ...

    async def stored_since(self, since: datetime, pages: int) -> tuple[set[str], bool] | None:
        """The ids of statements the LRS stored since then, reading at most `pages` pages, and whether that was
        all of them (None: it could not be asked)."""
        ...

    async def answers(self) -> bool:
        """Whether the LRS answers at all now (a cheap request, while waiting out an outage)."""
        ...
