"""Answering a Slack message: a placeholder at once, edited as the answer streams (at most once per interval), then
the cited answer; what only the asker may read goes to them alone; a failure is told, never silent."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from coach.conversation import Turn
from coach.messages import IncomingMessage, Reply
from connectors.slack.blocks import answer_blocks, fallback_text, placeholder_blocks, to_mrkdwn
from connectors.slack.text import plain_text
from connectors.streaming import ask_showing_progress

log = logging.getLogger(__name__)

THINKING = "Looking through the learning content…"
FAILED = "Sorry, something went wrong while I was answering. Please ask again in a minute."
PRIVATELY = "Only you can see this."
CONTEXT_TURNS = 6
DM_CONTEXT_S = 15 * 60  # earlier direct messages count as context for this long


@dataclass(frozen=True)
class Place:
    """Where a question was asked and where its answer goes."""

    team: str
    channel: str
    user: str
    ts: str  # the question's own message
    thread_ts: str | None  # answer in this thread (None: straight into the DM)
    public: bool  # a channel: others read the answer


def learner_id(team: str, user: str) -> str:
    return f"slack:{team}:{user}"


async def history(client: AsyncWebClient, place: Place, bot_user_id: str | None) -> tuple[Turn, ...]:
    """The thread (or the last minutes of the DM) before this message, oldest first, as the core's turns."""
    try:
        if place.thread_ts:
            messages = (await client.conversations_replies(channel=place.channel, ts=place.thread_ts,
                                                           limit=50))["messages"]
        else:
            recent = (await client.conversations_history(channel=place.channel, limit=CONTEXT_TURNS + 1))["messages"]
            messages = [m for m in recent[::-1] if float(place.ts) - float(m["ts"]) < DM_CONTEXT_S]
    except SlackApiError as exc:  # context makes follow-ups better; without it the question is still answered
        log.warning("could not read the conversation for context: %s", exc.response.get("error"))
        return ()
    turns = []
    for message in messages:
        if message["ts"] == place.ts or float(message["ts"]) > float(place.ts) or not message.get("text"):
            continue
        by_coach = bool(message.get("bot_id")) or message.get("user") == bot_user_id
        turns.append(Turn("coach" if by_coach else "learner", plain_text(message["text"], bot_user_id)))
    return tuple(turns[-CONTEXT_TURNS:])


class Replier:
    def __init__(self, coach, interval_s: float = 1.0) -> None:
        self.coach, self.interval_s = coach, interval_s

    async def answer(self, client: AsyncWebClient, place: Place, text: str, bot_user_id: str | None) -> None:
        message = IncomingMessage(
            learner_id=learner_id(place.team, place.user), text=text, platform="slack", public=place.public,
            channel="channel" if place.public else ("thread" if place.thread_ts else "dm"),
            history=await history(client, place, bot_user_id))
        posted = await client.chat_postMessage(channel=place.channel, thread_ts=place.thread_ts, text=THINKING,
                                               blocks=placeholder_blocks(THINKING))
        where = {"channel": posted["channel"], "ts": posted["ts"]}

        async def show(text: str) -> None:
            with contextlib.suppress(SlackApiError):  # a missed intermediate edit is harmless
                await client.chat_update(**where, text=to_mrkdwn(text), blocks=placeholder_blocks(text + " …"))

        reply = await ask_showing_progress(self.coach, message, show, self.interval_s)
        if reply is None:
            await self._show(client, place, where, text=FAILED, blocks=placeholder_blocks(FAILED))
            return
        await self._show(client, place, where, text=fallback_text(reply), blocks=answer_blocks(reply))
        if reply.private:
            await client.chat_postEphemeral(channel=place.channel, user=place.user, thread_ts=place.thread_ts,
                                            text=PRIVATELY, blocks=private_blocks(reply.private))

    async def _show(self, client: AsyncWebClient, place: Place, where: dict, *, text: str, blocks: list[dict]) -> None:
        """Edit the placeholder into the final message; if Slack refuses the edit, post it as a new message."""
        try:
            await client.chat_update(**where, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("chat.update failed (%s); posting the answer instead", exc.response.get("error"))
            await client.chat_postMessage(channel=where["channel"], thread_ts=place.thread_ts, text=text, blocks=blocks)


def private_blocks(reply: Reply) -> list[dict]:
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": PRIVATELY}]}
    return [note, *answer_blocks(reply)][:50]
