"""The coach's Teams bot: questions in personal chats, group chats and channels; card actions and Teams' own feedback
buttons; welcome on install; conversation references kept for later proactive messages. Translates Teams <-> core
only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from contextvars import ContextVar

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from coach import addresses, posted_answers, seen
from kernel.errors import NotFound
from coach.directory import Address
from coach.i18n import N_, _, speaking, supported
from coach.messages import IncomingMessage, Reply
from coach.ports import SendResult
from connectors.streaming import ask_showing_progress
from connectors.teams import feedback, nudge_card
from connectors.teams.cards import answer_card, chosen
from connectors.teams.delivery import FAILED, UNDELIVERED, Stream, answer_activity, card_activity, send

log = logging.getLogger(__name__)

PLATFORM = "teams"
HELD: ContextVar[str | None] = ContextVar("teams_inbox_event", default=None)  # the inbox event being handled
CHANNEL_PREFIX = "teams:channel:"  # a channel as the target of a manager's nudge: teams:channel:<channel id>
WELCOME = N_("Hi{name}! I'm your learning coach. Ask me anything about how we work here: I answer from the company's "
             "learning content and say where each answer comes from. Say *help* to see what else I can do.")
PRIVATE_ELSEWHERE = N_("I have something for you alone (a fuller answer or a lesson), but I couldn't message you "
                       "privately: open a chat with me and ask there.")
DONE = N_("Done.")
_MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE)
_CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
_MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
_CARD_ERROR = "application/vnd.microsoft.error"


def learner_id(activity: Activity) -> str:
    user = activity.from_property
    return f"teams:{tenant_of(activity)}:{user.aad_object_id or user.id}"


def tenant_of(activity: Activity) -> str:
    tenant = (activity.channel_data.get("tenant") if isinstance(activity.channel_data, dict) else None) or {}
    return activity.conversation.tenant_id or tenant.get("id", "") or "default"


def conversation_key(conversation_id: str) -> str:
    """A channel thread's conversation id carries the thread (`19:...@thread.tacv2;messageid=...`); the channel's
    message ids are unique without it, and an invoke on a message may name the channel alone."""
    return conversation_id.split(";")[0]


def question_text(activity: Activity) -> str:
    """The text without the @mention of the coach (other people's mentions keep their names)."""
    names = {m.additional_properties.get("text", "") for m in TurnContext.get_mentions(activity)
             if m.additional_properties.get("mentioned", {}).get("id") == activity.recipient.id}
    text = activity.text or ""
    for name in names:
        text = text.replace(name, " ")
    text = _MENTION.sub(r"\1", text)
    return re.sub(r"\s+", " ", text.replace("&nbsp;", " ")).strip()


class CoachBot(ActivityHandler):
    platform = PLATFORM

    def __init__(self, container, adapter, app_id: str, interval_s: float = 1.0) -> None:
        self.coach, self.engine = container.coach, container.engine
        self.adapter, self.app_id, self.interval_s = adapter, app_id, interval_s

    # --- questions ---------------------------------------------------------------------------------------------

    async def on_message_activity(self, context: TurnContext) -> None:
        activity = context.activity
        if not await asyncio.to_thread(seen.first_time, self.engine,
                                       f"teams:activity:{activity.conversation.id}:{activity.id}", HELD.get()):
            return  # Teams redelivered it: it is answered (or being answered) already
        await self.remember(context)
        data = activity.value if isinstance(activity.value, dict) else {}
        if nudge_card.is_nudge_verb(data.get("coach")):  # the nudge card on a client that sends Action.Submit
            await self.show_nudges(context, data["coach"], data)
            return
        if choice := chosen(activity.value):  # a card button on a client that sends Action.Submit
            with speaking(await self.language(activity)):
                outcome = await self.act(context, *choice)
                await send(context, outcome if isinstance(outcome, Activity) else outcome or _(DONE))
            return
        text = question_text(activity)
        if not text:
            return
        if activity.conversation.conversation_type in (None, "personal") and (request := nudge_card.request_of(text)):
            await self.show_nudges(context, request, {})
            return
        await self.answer(context, text)

    async def show_nudges(self, context: TurnContext, verb: str, data: dict) -> None:
        """A manager's nudge form or list, as a new card (see nudge_card.py)."""
        with speaking(await self.language(context.activity)):
            outcome = await asyncio.to_thread(nudge_card.respond, self.engine, learner_id(context.activity), verb,
                                              data)
        await send(context, card_activity(outcome) if isinstance(outcome, dict) else outcome)

    async def answer(self, context: TurnContext, text: str) -> None:
        activity = context.activity
        public = activity.conversation.conversation_type in ("channel", "groupChat")
        learner = learner_id(activity)
        message = IncomingMessage(learner_id=learner, text=text, platform=PLATFORM, public=public,
                                  channel="channel" if public else "dm",
                                  conversation=f"{PLATFORM}:{activity.conversation.id}", locale=activity.locale or "")
        stream = Stream(context)

        async def show(text: str) -> bool:
            try:
                await stream.update(text)
            except HttpOperationError as exc:  # a missed update is harmless; a conversation gone is not
                return getattr(exc.response, "status_code", None) not in (401, 403, 404)
            except ClientRequestError:
                pass
            return True

        with speaking(await self.language(activity)):  # until the reply says which: the progress note, an apology
            with contextlib.suppress(HttpOperationError, ClientRequestError):
                await stream.start()  # a missing typing indicator must not cost the answer
            reply = await ask_showing_progress(self.coach, message, show, self.interval_s)
            if reply is None:
                await self._deliver(stream, Activity(type="message", text=_(FAILED)))
                return
        with speaking(reply.language):
            sent = await self._deliver(stream, answer_activity(reply, text_in_message=stream.streaming))
            if sent and reply.need_id:
                await self._posted(activity.conversation.id, reply.need_id, stream.stream_id, sent.id)
            if reply.private and not (await self.send(learner, reply.private)).delivered:
                await send(context, _(PRIVATE_ELSEWHERE))

    async def _posted(self, conversation_id: str, need_id: str, *message_ids: str) -> None:
        """Remember which need a message answers, for Teams' feedback buttons under it."""
        await asyncio.to_thread(posted_answers.remember, self.engine, platform=PLATFORM, need_id=need_id,
                                conversation=conversation_key(conversation_id), message_ids=message_ids)

    async def _deliver(self, stream: Stream, activity: Activity):
        """The final message, and Teams' answer to it; if Teams will not take it even after retries, say so in a
        short message in the language being spoken (and answer None)."""
        try:
            return await stream.finish(activity)
        except (HttpOperationError, ClientRequestError):
            log.exception("Teams did not take an answer")
            try:
                await send(stream.context, _(UNDELIVERED))
            except (HttpOperationError, ClientRequestError):
                log.error("Teams took neither the answer nor the apology: the learner was not told")

    # --- card actions ------------------------------------------------------------------------------------------

    async def on_invoke_activity(self, context: TurnContext):
        if context.activity.name == feedback.SUBMIT_ACTION:
            return await self.rate_message(context)
        if context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(context)
        value = context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("verb", ""), str) or \
                not isinstance(action.get("data") or {}, dict):
            return _card_error("the invoke's value is not a card action")
        if nudge_card.is_nudge_verb(action.get("verb")):  # the manager's nudge card: replaced by what follows
            with speaking(await self.language(context.activity)):
                outcome = await asyncio.to_thread(nudge_card.respond, self.engine, learner_id(context.activity),
                                                  action["verb"], action.get("data") or {})
            body = {"statusCode": 200, "type": _CARD_RESPONSE, "value": outcome} if isinstance(outcome, dict) else \
                {"statusCode": 200, "type": _MESSAGE_RESPONSE, "value": outcome}
            return InvokeResponse(status=200, body=body)
        choice = chosen(action.get("data"), action.get("verb"))
        if not choice:
            return _card_error("unknown action")
        with speaking(await self.language(context.activity)):
            outcome = await self.act(context, *choice)
            done = _(DONE)
        if isinstance(outcome, Activity):  # the card is replaced by the outcome (e.g. "forget me" confirmed)
            body = {"statusCode": 200, "type": _CARD_RESPONSE, "value": outcome.attachments[0].content}
        else:
            body = {"statusCode": 200, "type": _MESSAGE_RESPONSE, "value": outcome or done}
        return InvokeResponse(status=200, body=body)

    async def rate_message(self, context: TurnContext) -> InvokeResponse:
        """Teams' feedback buttons: the card's Helpful / Not helpful for the need the rated message answers. Teams
        wants 200 and an empty object whatever came of it (it shows nothing back), so a rating that cannot count
        (of someone else's answer, or a deleted one) is only logged; a value Teams does not send gets 400."""
        activity = context.activity
        rated = feedback.rating(activity.value)
        if rated is None or not activity.reply_to_id:
            return InvokeResponse(status=400, body={"error": "not a rating of a message, as Teams sends one"})
        need_id = await asyncio.to_thread(posted_answers.need_of, self.engine, platform=PLATFORM,
                                          conversation=conversation_key(activity.conversation.id),
                                          message_id=activity.reply_to_id)
        try:
            if need_id:
                await asyncio.to_thread(self.coach.feedback, need_id=need_id, learner_id=learner_id(activity),
                                        helpful=rated[0], note=rated[1])
            else:
                log.info("Teams: message %s was rated, but no answer to a question is on record for it",
                         activity.reply_to_id)
        except NotFound as exc:
            log.info("Teams: a rating of message %s did not count (%s)", activity.reply_to_id, exc)
        return InvokeResponse(status=200, body={})

    async def act(self, context: TurnContext, kind: str, value: str, note: str) -> Activity | str:
        """A button under a reply: a short confirmation (str, in the language being spoken), or a card that replaces
        the one clicked (in the reply's language)."""
        learner = learner_id(context.activity)
        try:
            if kind in ("helpful", "not_helpful"):
                await asyncio.to_thread(self.coach.feedback, need_id=value, learner_id=learner,
                                        helpful=kind == "helpful", note=note)
                return _("Thanks: your feedback helps L&D improve the content.")
            reply = await asyncio.to_thread(self.coach.act, learner, kind, value)
        except (NotFound, ValueError) as exc:
            return str(exc)
        if kind in ("forget_confirm", "cancel"):
            return card_activity(answer_card(reply))
        await send(context, card_activity(answer_card(reply)))
        return ""

    # --- installs and conversation references ------------------------------------------------------------------

    async def on_members_added_activity(self, members_added: list[ChannelAccount], context: TurnContext) -> None:
        activity = context.activity
        if not any(m.id == activity.recipient.id for m in members_added):
            return  # someone else joined a conversation the coach is in
        await self.remember(context)
        if await asyncio.to_thread(seen.first_time, self.engine, f"teams:welcome:{activity.conversation.id}"):
            personal = activity.conversation.conversation_type == "personal"
            name = (activity.from_property.name or "").split(" ")[0] if personal else ""
            with speaking(await self.language(activity)):
                welcome = _(WELCOME).format(name=f" {name}" if name else "")
            await send(context, welcome)

    async def language(self, activity: Activity) -> str | None:
        """What to say things in to the person of this activity outside a reply (a welcome, the nudge card, a progress
        note before the core has answered): the coach's language for them once it knows them, else their Teams'."""
        def of(learner: str) -> str | None:
            return self.coach.language_of(learner) if self.coach.knows(learner) else supported(activity.locale)

        return await asyncio.to_thread(of, learner_id(activity))

    async def on_installation_update_add(self, context: TurnContext) -> None:
        await self.remember(context)

    async def remember(self, context: TurnContext) -> None:
        """Keep how to reach this personal chat or channel, and the person who wrote, for proactive messages."""
        activity = context.activity
        reference = TurnContext.get_conversation_reference(activity).serialize()
        kind = activity.conversation.conversation_type or "personal"
        learner = learner_id(activity)
        if kind == "personal":
            await asyncio.to_thread(self.coach.meet, learner, name=activity.from_property.name,
                                    locale=activity.locale, address=Address(PLATFORM, "personal", reference))
            return
        channel = ((activity.channel_data or {}).get("channel") or {}).get("id") or activity.conversation.id
        await asyncio.to_thread(addresses.remember, self.engine, platform=PLATFORM, kind="channel",
                                key=channel.split(";")[0], reference=reference)
        if activity.type == "message":  # a person met in a channel: enough to open a personal chat with them later
            await asyncio.to_thread(self.coach.meet, learner, name=activity.from_property.name,
                                    locale=activity.locale, address=Address(PLATFORM, "member", reference))

    # --- proactive -----------------------------------------------------------------------------------------------

    async def send(self, learner: str, reply: Reply, key: str = "") -> SendResult:
        """The Delivery port: a reply to the learner's personal chat (opening one if the coach only met them in a
        channel). Teams cannot say later whether a message arrived, so `was_sent` answers None."""
        activity = answer_activity(reply, text_in_message=False)

        async def deliver(turn: TurnContext) -> None:
            sent = await send(turn, activity)
            if sent and reply.need_id:
                await self._posted(turn.activity.conversation.id, reply.need_id, sent.id)

        try:
            if learner.startswith(CHANNEL_PREFIX):  # a manager's nudge to a channel: a new post there
                channel = learner.removeprefix(CHANNEL_PREFIX)
                if not (found := await asyncio.to_thread(addresses.channel, self.engine, PLATFORM, channel)):
                    return SendResult(False, reason="the coach has not been added to that channel yet")
                reference = ConversationReference().deserialize(found)
                reference.conversation.id = channel  # the channel itself, not the thread the coach was met in
            else:
                found = await asyncio.to_thread(addresses.personal, self.engine, learner, PLATFORM)
                reference = found and ConversationReference().deserialize(found)
            if reference:
                await self.adapter.continue_conversation(reference, deliver, bot_app_id=self.app_id)
                return SendResult(True)
            member = await asyncio.to_thread(addresses.member, self.engine, learner, PLATFORM)
            if member is None:
                return SendResult(False, reason="the coach has not met this learner in Teams yet")
            await self._open_personal_chat(learner, ConversationReference().deserialize(member), deliver)
            return SendResult(True)
        except (HttpOperationError, ClientRequestError) as exc:
            log.exception("a proactive Teams message could not be delivered")
            return SendResult(False, reason=f"Teams refused it ({exc})"[:300])

    async def was_sent(self, learner: str, key: str) -> bool | None:
        return None

    async def _open_personal_chat(self, learner: str, member: ConversationReference, deliver) -> None:
        tenant = member.conversation.tenant_id or learner.split(":")[1]
        parameters = ConversationParameters(is_group=False, bot=member.bot, members=[member.user], tenant_id=tenant,
                                            channel_data={"tenant": {"id": tenant}})

        async def opened(turn: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(turn.activity)
            reference.user, reference.conversation.conversation_type = member.user, "personal"
            await asyncio.to_thread(addresses.remember, self.engine, platform=PLATFORM, kind="personal", key=learner,
                                    reference=reference.serialize(), learner_id=learner)
            await deliver(turn)

        await self.adapter.create_conversation(self.app_id, opened, parameters, member.channel_id, member.service_url)


def _card_error(message: str) -> InvokeResponse:
    """Universal Actions' error answer to an `adaptiveCard/action` invoke (botbuilder's own, for a malformed value)."""
    return InvokeResponse(status=400, body={"statusCode": 400, "type": _CARD_ERROR,
                                            "value": {"code": "BadRequest", "message": message}})
