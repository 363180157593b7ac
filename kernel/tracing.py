"""The request id: one per question (or other request), from the platform's HTTP request through the core and the
model call, in every log line (kernel/logs.py). A context variable, so asyncio tasks and `asyncio.to_thread` carry it."""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")

_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # what a caller's X-Request-Id may be (else a new one is made)


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def accepted(given: str | None) -> str:
    """A caller's (a load balancer's) request id when it is a sane token, else a new one."""
    return given if given and _SAFE.match(given) else new_id()


@contextmanager
def bound(rid: str):
    token = request_id.set(rid or new_id())
    try:
        yield request_id.get()
    finally:
        request_id.reset(token)
