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

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from coach import inbox
from coach.inbox import Holder, Taken
from kernel.tracing import request_id

CONTEXT_KEY = "coach_inbox"  # in a Bolt context: the inbox event the listener is handling
LEFT_KEY = "coach_inbox_left"  # ... and, when taken over, the message its last handler left unfinished
QUESTION_EVENTS = ("message", "app_mention")


def is_question(body: dict) -> bool:
    """An event a listener may answer: a person's new message (edits, joins and bots' messages are never answered)."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    return (isinstance(event, dict) and event.get("type") in QUESTION_EVENTS and not event.get("subtype")
            and not event.get("bot_id") and bool(event.get("user")) and bool(body.get("event_id")))


class SlackInbox:
    def __init__(self, engine, lease_s: float, bolt) -> None:
        self.holder, self.bolt = Holder(engine, "slack", lease_s), bolt  # taken-over events go back to this Bolt app

    async def middleware(self, body, context, next):
        if not is_question(body):
            return await next()
        key = f"slack:{body['event_id']}"
        if context.get(CONTEXT_KEY) != key:  # not one this replica took over: a delivery from Slack
            if not await asyncio.to_thread(self.holder.accept, key, json.dumps(body), request_id.get()):
                return BoltResponse(status=200, body="")  # accepted before: held, or answered, elsewhere
            context[CONTEXT_KEY] = key
        return await next()

    @contextlib.asynccontextmanager
    async def handling(self, context):
        """Around a listener's work: an inbox event is held meanwhile (coach/inbox.py Holder.holding)."""
        key = context.get(CONTEXT_KEY)
        if not key:
            yield
            return
        async with self.holder.holding(key):
            yield

    async def started(self, context, channel: str, ts: str) -> None:
        """The answer to the event being handled now has a message (a stream, a placeholder): noted, so a replica
        that takes the event over deletes it instead of leaving it unfinished beside its own answer."""
        if key := context.get(CONTEXT_KEY):
            await asyncio.to_thread(inbox.note, self.holder.engine, key, json.dumps({"channel": channel, "ts": ts}))

    async def run(self) -> None:
        await self.holder.take_over_forever(self._dispatch)

    async def _dispatch(self, taken: Taken) -> None:
        left = json.loads(taken.progress) if taken.progress else None
        await self.bolt.async_dispatch(AsyncBoltRequest(body=json.loads(taken.payload), mode="socket_mode",
                                                        context={CONTEXT_KEY: taken.key, LEFT_KEY: left}))
