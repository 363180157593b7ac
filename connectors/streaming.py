"""Answering while showing progress, for every chat connector: the core answers in a worker thread while the newest
partial text is shown at most once per interval. When the learner can no longer be reached (the platform refuses
the conversation, or the waiting task is cancelled) the model call is cancelled, so it stops generating."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Awaitable, Callable

from coach.messages import IncomingMessage, Reply

log = logging.getLogger(__name__)


async def ask_showing_progress(coach, message: IncomingMessage, show: Callable[[str], Awaitable[bool | None]],
                               interval_s: float) -> Reply | None:
    """`coach.ask`, calling `show(text so far)` whenever the text changed, at most every `interval_s`; None when
    answering failed (logged), for the connector to apologise. `show` must swallow its own delivery errors, and
    returns False when the learner cannot be reached at all: the model call is then cancelled."""
    latest: list[str] = []
    done, cancel = asyncio.Event(), threading.Event()

    async def pump() -> None:
        shown, last = "", time.monotonic()
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), max(0.0, interval_s - (time.monotonic() - last)))
            if done.is_set():
                return
            last = time.monotonic()
            if latest and latest[-1] != shown:
                shown = latest[-1]
                if await show(shown) is False:
                    log.info("the %s learner cannot be reached; the model call is cancelled", message.platform)
                    cancel.set()

    task = asyncio.create_task(pump())
    try:
        return await asyncio.to_thread(coach.ask, message, latest.append, cancel)
    except asyncio.CancelledError:
        cancel.set()  # the thread goes on to its end, but the model stops
        raise
    except Exception:
        log.exception("answering a %s question failed", message.platform)
        return None
    finally:
        # not cancelled: a partial text on its way to the platform arrives and is recorded as shown, so the final
        # answer replaces it rather than being added after it ("Let me lookSorry, ...")
        done.set()
        await task
