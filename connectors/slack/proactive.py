"""Proactive messages to Slack learners' DMs (or a channel a manager's nudge names) (the core's Delivery port): paced per workspace, 429s handed back with
their Retry-After, and each message carrying its delivery key as Slack message metadata, so that after a crash the
coach can check whether it arrived instead of sending it twice."""

from __future__ import annotations

import asyncio
import time

from slack_sdk.errors import SlackApiError

from coach.messages import Reply
from coach.ports import SendResult
from connectors.slack.blocks import answer_blocks, fallback_text

EVENT_TYPE = "coach_delivery"


class Pacer:
    """At most `per_second` sends per workspace, spread evenly."""

    def __init__(self, per_second: float) -> None:
        self.gap, self.next, self.locks = 1.0 / per_second if per_second > 0 else 0.0, {}, {}

    async def wait(self, team: str) -> None:
        async with self.locks.setdefault(team, asyncio.Lock()):
            now = time.monotonic()
            start = max(now, self.next.get(team, 0.0))
            self.next[team] = start + self.gap
        await asyncio.sleep(start - now)


class SlackDelivery:
    platform = "slack"

    def __init__(self, client_for, per_second: float = 5.0) -> None:
        """`client_for(team)`: an awaitable giving the workspace's AsyncWebClient (its token), or None."""
        self.client_for, self.pacer = client_for, Pacer(per_second)

    async def send(self, learner_id: str, reply: Reply, key: str) -> SendResult:
        team, user = learner_id.split(":")[1:3]
        client = await self.client_for(team)
        if client is None:
            return SendResult(False, reason=f"the coach is not installed in Slack workspace {team}")
        await self.pacer.wait(team)
        try:
            channel = await _conversation(client, user)
            await client.chat_postMessage(channel=channel, text=fallback_text(reply), blocks=answer_blocks(reply),
                                          metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}})
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                return SendResult(False, retry_after=float(exc.response.headers.get("Retry-After", 1)),
                                  reason="rate limited")
            if status >= 500:
                return SendResult(False, retry_after=0, reason=f"Slack answered {status}")
            return SendResult(False, reason=f"Slack refused it: {exc.response.get('error', status)}")
        return SendResult(True)

    async def was_sent(self, learner_id: str, key: str) -> bool | None:
        team, user = learner_id.split(":")[1:3]
        client = await self.client_for(team)
        if client is None:
            return None
        try:
            channel = await _conversation(client, user)
            history = await client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
        except SlackApiError:
            return None
        return any((m.get("metadata") or {}).get("event_payload", {}).get("key") == key
                   for m in history.get("messages", []))


async def _conversation(client, target: str) -> str:
    """A channel (a manager's nudge to one) is posted in as it is; a person gets the coach's DM."""
    if target[:1] in ("C", "G"):
        return target
    return (await client.conversations_open(users=target))["channel"]["id"]
