"""Slack's questions through the inbox (coach/inbox.py): a message event is stored and claimed before Bolt
acknowledges it, answered under a renewed lease, and taken over by another replica if this one dies mid-answer.

In: a Bolt middleware (HTTP and Socket Mode alike). A redelivery of an event already accepted (Slack's retries, to
any replica) is acknowledged and not handled again. The listeners that answer wrap their work in `handling(context)`.
Out: `run()`, on every app replica, takes over events whose lease ran out and dispatches them to Bolt again, as
Socket Mode requests (their signature was checked when they came in; their timestamps are too old to check again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from coach import inbox
from kernel.tracing import bound, request_id

log = logging.getLogger(__name__)

CONTEXT_KEY = "coach_inbox"  # in a Bolt context: the inbox event the listener is handling
QUESTION_EVENTS = ("message", "app_mention")


def is_question(body: dict) -> bool:
    """An event a listener may answer: a person's new message (edits, joins and bots' messages are never answered)."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    return (isinstance(event, dict) and event.get("type") in QUESTION_EVENTS and not event.get("subtype")
            and not event.get("bot_id") and bool(event.get("user")) and bool(body.get("event_id")))


class SlackInbox:
    def __init__(self, engine, lease_s: float) -> None:
        self.engine, self.lease_s = engine, lease_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.bolt = None

    async def middleware(self, body, context, next):
        if not is_question(body):
            return await next()
        key = f"slack:{body['event_id']}"
        if context.get(CONTEXT_KEY) != key:  # not one this replica took over: a delivery from Slack
            if not await asyncio.to_thread(inbox.accept, self.engine, key, platform="slack", payload=json.dumps(body),
                                           owner=self.owner, lease_s=self.lease_s, request_id=request_id.get()):
                return BoltResponse(status=200, body="")  # accepted before: held, or answered, elsewhere
            context[CONTEXT_KEY] = key
        return await next()

    @contextlib.asynccontextmanager
    async def handling(self, context):
        """Around a listener's work on an inbox event: the lease renewed meanwhile, the event done after it (or, when
        the work is cancelled or fails, released for another replica to take over)."""
        key = context.get(CONTEXT_KEY)
        if not key:
            yield
            return
        renewing = asyncio.create_task(self._renew(key))
        try:
            yield
        except BaseException:  # cancelled (the server stops) or failed: another replica takes it over at once
            renewing.cancel()
            inbox.release(self.engine, key, self.owner)  # not awaited: a cancelled task may not get to run again
            raise
        renewing.cancel()
        await asyncio.to_thread(inbox.done, self.engine, key)

    async def _renew(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            if not await asyncio.to_thread(inbox.renew, self.engine, key, self.owner, self.lease_s):
                log.warning("inbox: %s was taken over by another replica while this one handled it", key)
                return

    async def run(self) -> None:
        """Take over what dead replicas left, every third of a lease; prune what was handled a day ago."""
        rounds = 0
        while True:
            try:
                for taken in await asyncio.to_thread(inbox.take_over, self.engine, self.owner, self.lease_s):
                    with bound(taken.request_id):
                        log.info("inbox: took over %s (attempt %d)", taken.key, taken.attempts)
                        asyncio.create_task(self._dispatch(taken))
                if rounds % 1000 == 0:
                    await asyncio.to_thread(inbox.prune, self.engine)
            except Exception as exc:  # the database away: the next round tries again
                log.warning("inbox: could not look for events to take over (%s)", exc)
            rounds += 1
            await asyncio.sleep(max(self.lease_s / 3, 0.5))

    async def _dispatch(self, taken: inbox.Taken) -> None:
        await self.bolt.async_dispatch(AsyncBoltRequest(body=json.loads(taken.payload), mode="socket_mode",
                                                        context={CONTEXT_KEY: taken.key}))
