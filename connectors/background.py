"""A task that runs as long as the app server does: started with it, cancelled when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Awaitable, Callable

from fastapi import FastAPI


def keep_running(app: FastAPI, make: Callable[[], Awaitable[None]]) -> None:
    running: list[asyncio.Task] = []

    async def start() -> None:
        running.append(asyncio.create_task(make()))

    async def stop() -> None:
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
