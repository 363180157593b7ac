"""Getting the coach's replies into Teams: retries with backoff on 429 / 5xx, the typing indicator, streaming in
personal chats (informative update, growing text, final message), and the answer activity itself."""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, Entity
from msrest.exceptions import ClientRequestError, HttpOperationError

from coach.i18n import N_, _, speaking
from coach.messages import Reply
from connectors.teams import feedback
from connectors.teams.cards import answer_card, attachment, citation_entity

log = logging.getLogger(__name__)

# what the learner reads, marked for the catalog: `_()` them under the learner's language where they are sent
THINKING = N_("Looking through the learning content…")
UNDELIVERED = N_("I had an answer for you, but Teams would not take it just now. Please ask again in a minute.")
FAILED = N_("Sorry, something went wrong while answering. Please try again in a minute.")
ATTEMPTS = 4  # one try and three retries
BACKOFF_S = (0.5, 2.0, 5.0)  # unless the service says Retry-After
MAX_WAIT_S = 30.0


def retry_after(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before the next try, or None when retrying cannot help (a 4xx other than 429)."""
    if isinstance(error, ClientRequestError):  # the connector was unreachable
        return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", 0)
    if status != 429 and status < 500:
        return None
    header = (getattr(response, "headers", None) or {}).get("Retry-After", "")
    try:
        return min(float(header), MAX_WAIT_S)
    except ValueError:
        return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]


async def send(context: TurnContext, activity: Activity | str):
    """`context.send_activity` with retries on throttling, server errors and unreachable connectors."""
    for attempt in range(ATTEMPTS):
        try:
            return await context.send_activity(activity)
        except (HttpOperationError, ClientRequestError) as error:
            wait = retry_after(error, attempt)
            if wait is None or attempt == ATTEMPTS - 1:
                raise
            log.warning("Teams connector refused a send (%s); retrying in %.1f s", error, wait)
            await asyncio.sleep(wait)


def entity(fields: dict) -> Entity:
    """An entity with arbitrary fields: botbuilder's `Entity` serializes only `type`."""
    names = {key: key.replace("@", "at_") for key in fields}
    kind = type("CoachEntity", (Entity,), {"_attribute_map": {
        name: {"key": key, "type": "object"} for key, name in names.items()}})
    made = kind()
    for key, name in names.items():
        setattr(made, name, fields[key])
    return made


def answer_activity(reply: Reply, *, text_in_message: bool) -> Activity:
    """In a personal chat the answer is the message text (markdown, with Teams' citation pills) and the card carries
    the sources and buttons; elsewhere the card carries everything. An answer to a question (it has a need) gets
    Teams' feedback buttons too. The card's and the citations' own words are in the reply's language."""
    content = answer_card(reply, with_text=not text_in_message)
    activity = Activity(type=ActivityTypes.message, text=reply.text if text_in_message else "",
                        text_format="markdown", attachments=[Attachment(**_card(content))],
                        channel_data=feedback.channel_data() if reply.need_id else None)
    if reply.cited or reply.mode == "generated":
        with speaking(reply.language):
            activity.entities = [entity(citation_entity(reply))]
    return activity


def _card(content: dict) -> dict:
    made = attachment(content)
    return {"content_type": made["contentType"], "content": made["content"]}


def card_activity(content: dict) -> Activity:
    return Activity(type=ActivityTypes.message, attachments=[Attachment(**_card(content))])


class Stream:
    """Teams streaming in a personal chat: an informative update at once, the growing text (paced by the caller),
    then the final message replacing it. Outside personal chats: a typing indicator, then the answer."""

    def __init__(self, context: TurnContext) -> None:
        self.context = context
        self.streaming = context.activity.conversation.conversation_type == "personal"
        self.stream_id, self.sequence, self.shown = "", 0, ""

    async def start(self) -> None:
        if not self.streaming:
            await send(self.context, Activity(type=ActivityTypes.typing))
            return
        response = await self._chunk(_(THINKING), "informative")
        self.stream_id = getattr(response, "id", "") or ""
        self.streaming = bool(self.stream_id)

    async def update(self, text: str) -> None:
        """The answer so far; Teams wants every chunk to start with the previous one."""
        if not self.streaming or not text.startswith(self.shown) or text == self.shown:
            return
        self.shown = text
        await self._chunk(text, "streaming")

    async def finish(self, activity: Activity):
        """The final message; returns Teams' answer (its `id`, besides the stream's, names the message later)."""
        if self.streaming:
            activity.entities = [entity({"type": "streaminfo", "streamId": self.stream_id, "streamType": "final"}),
                                 *(activity.entities or [])]
        return await send(self.context, activity)

    async def _chunk(self, text: str, kind: str):
        self.sequence += 1
        info = {"type": "streaminfo", "streamType": kind, "streamSequence": self.sequence}
        if self.stream_id:
            info["streamId"] = self.stream_id
        return await send(self.context, Activity(type=ActivityTypes.typing, text=text, entities=[entity(info)]))
