"""Teams messages through the inbox (coach/inbox.py): an authenticated message activity is stored and claimed
before the 202 goes back, answered under a renewed lease, and taken over by another replica if this one dies
mid-answer. A Teams redelivery of an activity already accepted is answered 202 and not handled again.

A taken-over activity is processed with the identity its token proved when it came in (the claims are stored with
it: the token itself has expired by then), so its replies go to the same service URL with the same credentials."""

from __future__ import annotations

import asyncio
import hashlib
import json

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity

from coach.inbox import Holder, Taken
from connectors.teams.bot import HELD, conversation_key
from kernel.tracing import request_id


def key_of(activity: Activity) -> str:
    """Conversation ids run to hundreds of characters: the key is a digest of the conversation and activity ids."""
    conversation = conversation_key(activity.conversation.id if activity.conversation else "")
    return "teams:" + hashlib.sha256(f"{conversation}\n{activity.id}".encode()).hexdigest()[:40]


class TeamsInbox:
    def __init__(self, engine, lease_s: float, adapter, logic) -> None:
        self.holder, self.adapter, self.logic = Holder(engine, "teams", lease_s), adapter, logic

    async def accept(self, activity: Activity, auth: AuthenticateRequestResult) -> str | None:
        """The event's key when it is new and held here now; None for a redelivery."""
        key = key_of(activity)
        claims = auth.claims_identity
        payload = json.dumps({"activity": activity.serialize(), "audience": auth.audience,
                              "caller_id": auth.caller_id, "claims": claims.claims if claims else {},
                              "authenticated": bool(claims and claims.is_authenticated),
                              "authentication_type": claims.authentication_type if claims else None}, default=str)
        held = await asyncio.to_thread(self.holder.accept, key, payload, request_id.get())
        return key if held else None

    async def handle(self, key: str, auth: AuthenticateRequestResult, activity: Activity) -> None:
        HELD.set(key)
        async with self.holder.holding(key):
            await self.adapter.process_activity(auth, activity, self.logic)

    async def run(self) -> None:
        await self.holder.take_over_forever(self._dispatch)

    async def _dispatch(self, taken: Taken) -> None:
        stored = json.loads(taken.payload)
        auth = AuthenticateRequestResult()
        auth.audience, auth.caller_id = stored["audience"], stored["caller_id"]
        auth.claims_identity = ClaimsIdentity(stored["claims"], stored["authenticated"],
                                              stored["authentication_type"])
        auth.connector_factory = self.adapter.bot_framework_authentication.create_connector_factory(
            auth.claims_identity)
        await self.handle(taken.key, auth, Activity().deserialize(stored["activity"]))
