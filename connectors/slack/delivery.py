"""Answering a Slack message. Where Slack streams (a reply in a thread: every DM message is a thread root in the
agent experience, and a channel answer goes in the question's thread) the answer is Slack's own text stream
(`chat.startStream` / `appendStream` / `stopStream` through slack_sdk's `chat_stream`), with the learner's "thinking"
status while it is made and the sources, buttons and feedback buttons under it when it stops. Elsewhere, or when Slack
refuses to stream, a placeholder is posted at once and edited as the answer grows (at most once per interval). What
only the asker may read goes to them alone; a failure is told, never silent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from coach.conversation import Turn
from coach.i18n import N_, _, speaking
from coach.messages import IncomingMessage, Reply
from connectors.slack.blocks import answer_blocks, fallback_text, placeholder_blocks, to_mrkdwn
from connectors.slack.text import plain_text
from connectors.streaming import ask_showing_progress

log = logging.getLogger(__name__)

THINKING = N_("Looking through the learning content…")
STATUS = N_("is looking through the learning content…")  # Slack shows it after the app's name
LOADING = [N_("Looking through the learning content…"), N_("Reading the best passages…"), N_("Checking the sources…")]
FAILED = N_("Sorry, something went wrong while I was answering. Please ask again in a minute.")
PRIVATELY = N_("Only you can see this.")
CONTEXT_TURNS = 6
STREAM_TEXT_LIMIT = 12_000  # characters of markdown_text in one stream call
# Slack's errors that mean no answer can reach the learner here: the model call is cancelled
UNREACHABLE = frozenset({"channel_not_found", "is_archived", "not_in_channel", "account_inactive", "token_revoked",
                         "invalid_auth", "team_access_not_granted"})


Started = Callable[[str, str], Awaitable[None]]  # (channel, ts) of the message an answer is being shown in


async def _nobody(channel: str, ts: str) -> None:
    return None


@dataclass(frozen=True)
class Place:
    """Where a question was asked and where its answer goes."""

    team: str
    channel: str
    user: str
    ts: str  # the question's own message
    thread_ts: str | None  # answer in this thread (None: straight into the conversation)
    public: bool  # a channel: others read the answer
    shared: bool = False  # another organisation is in the conversation (Slack Connect)
    user_team: str = ""  # the asker's own workspace, when not the installing one (a stream names its recipient)

    @property
    def dm(self) -> bool:
        return self.channel.startswith("D")


def learner_id(team: str, user: str) -> str:
    return f"slack:{team}:{user}"


@contextlib.asynccontextmanager
async def speaking_to(coach, learner: str) -> AsyncIterator[str]:
    """Within the block the coach speaks the learner's language (Coach.language_of): for what it says outside a
    reply (a status, a welcome, the Home tab, a modal); a reply's own chrome follows the reply (`answer_blocks`)."""
    with speaking(await asyncio.to_thread(coach.language_of, learner)) as language:
        yield language


async def history(client: AsyncWebClient, place: Place, bot_user_id: str | None) -> tuple[Turn, ...]:
    """The thread before this message, oldest first, as the core's turns (a thread root has none)."""
    if not place.thread_ts or place.thread_ts == place.ts:
        return ()
    try:
        messages = (await client.conversations_replies(channel=place.channel, ts=place.thread_ts,
                                                       limit=50))["messages"]
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
    def __init__(self, coach, interval_s: float = 1.0, native_streaming: bool = True) -> None:
        self.coach, self.interval_s, self.native_streaming = coach, interval_s, native_streaming

    async def answer(self, client: AsyncWebClient, place: Place, text: str, bot_user_id: str | None,
                     started: Started | None = None) -> None:
        """`started(channel, ts)`: told once the answer has a message of its own (a stream, a placeholder)."""
        started = started or _nobody
        message = IncomingMessage(
            learner_id=learner_id(place.team, place.user), text=text, platform="slack", public=place.public,
            shared=place.shared, channel="channel" if place.public else ("thread" if place.thread_ts else "dm"),
            history=await history(client, place, bot_user_id))
        async with speaking_to(self.coach, message.learner_id):  # the status, the placeholder or an apology
            if self.native_streaming and place.thread_ts:
                reply = await self._stream(client, place, message, started)
            else:
                reply = await self._edit_placeholder(client, place, message, started)
        if reply and reply.private:
            with speaking(reply.private.language):
                await client.chat_postEphemeral(channel=place.channel, user=place.user, thread_ts=place.thread_ts,
                                                text=_(PRIVATELY), blocks=private_blocks(reply.private))

    async def _stream(self, client: AsyncWebClient, place: Place, message: IncomingMessage,
                      started: Started) -> Reply | None:
        """Slack's own stream; if Slack will not open one (a surface or plan without streaming), the answer is
        posted as a message; if the stream breaks half-way, its message is edited into the answer."""
        if place.dm:
            with contextlib.suppress(SlackApiError):  # the status is a nicety; the answer matters
                await client.assistant_threads_setStatus(channel_id=place.channel, thread_ts=place.thread_ts,
                                                         status=_(STATUS), loading_messages=[_(m) for m in LOADING])
        stream = await client.chat_stream(channel=place.channel, thread_ts=place.thread_ts, buffer_size=1,
                                          recipient_team_id=place.user_team or place.team,
                                          recipient_user_id=place.user)
        streamed, broken = "", False

        async def show(text: str) -> None:
            nonlocal streamed, broken
            if broken or not text.startswith(streamed):  # a rewrite is shown by the final edit
                return
            try:
                await stream.append(markdown_text=text[len(streamed):][:STREAM_TEXT_LIMIT])
                if not streamed and stream.ts:
                    await started(place.channel, stream.ts)
                streamed = text
            except (SlackApiError, SlackRequestError) as exc:
                log.warning("Slack stopped taking the stream (%s); the answer follows when it is ready", exc)
                broken = True

        reply = await ask_showing_progress(self.coach, message, show, self.interval_s)
        final = reply.text if reply else _(FAILED)
        blocks = answer_blocks(reply, text=False) if reply else []
        rest = final[len(streamed):] if final.startswith(streamed) else None
        try:
            if broken or rest is None:
                raise SlackRequestError("the streamed text is not the answer's beginning")
            await stream.stop(markdown_text=rest[:STREAM_TEXT_LIMIT] or None, blocks=blocks or None)
            return reply
        except (SlackApiError, SlackRequestError) as exc:
            if stream.ts is None:
                log.info("Slack did not stream this answer (%s); posting it", exc)
            with contextlib.suppress(SlackApiError, SlackRequestError):
                if stream.ts and not broken:
                    await stream.stop(blocks=blocks or None)  # end it before it is replaced by the answer
        text, full = (fallback_text(reply), answer_blocks(reply)) if reply else (final, placeholder_blocks(final))
        if stream.ts:
            await self._show(client, place, {"channel": place.channel, "ts": stream.ts}, text=text, blocks=full)
        else:
            await client.chat_postMessage(channel=place.channel, thread_ts=place.thread_ts, text=text, blocks=full)
        return reply

    async def _edit_placeholder(self, client: AsyncWebClient, place: Place, message: IncomingMessage,
                                started: Started) -> Reply | None:
        posted = await client.chat_postMessage(channel=place.channel, thread_ts=place.thread_ts, text=_(THINKING),
                                               blocks=placeholder_blocks(_(THINKING)))
        where = {"channel": posted["channel"], "ts": posted["ts"]}
        await started(where["channel"], where["ts"])

        async def show(text: str) -> bool:
            try:
                await client.chat_update(**where, text=to_mrkdwn(text), blocks=placeholder_blocks(text + " …"))
            except SlackApiError as exc:  # a missed intermediate edit is harmless; a conversation gone is not
                return exc.response.get("error") not in UNREACHABLE
            return True

        reply = await ask_showing_progress(self.coach, message, show, self.interval_s)
        if reply is None:
            await self._show(client, place, where, text=_(FAILED), blocks=placeholder_blocks(_(FAILED)))
        else:
            await self._show(client, place, where, text=fallback_text(reply), blocks=answer_blocks(reply))
        return reply

    async def _show(self, client: AsyncWebClient, place: Place, where: dict, *, text: str, blocks: list[dict]) -> None:
        """Edit the message into the final answer; if Slack refuses the edit, post it as a new message."""
        try:
            await client.chat_update(**where, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("chat.update failed (%s); posting the answer instead", exc.response.get("error"))
            await client.chat_postMessage(channel=where["channel"], thread_ts=place.thread_ts, text=text, blocks=blocks)


def private_blocks(reply: Reply) -> list[dict]:
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": _(PRIVATELY)}]}
    return [note, *answer_blocks(reply)][:50]
