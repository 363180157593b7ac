"""The coach in Slack: Bolt listeners that translate Slack events, commands and clicks to the core and back.

Every request is verified (signature and 5-minute timestamp window: 401 otherwise) and acknowledged before any
answer is made. Each message is answered once: its (team, channel, ts) is claimed in the database first, which
absorbs Slack's retries, the twin `message` event of an `app_mention` and redelivery after a restart. Direct
messages are answered in their own thread (Slack's agent experience makes every DM message a thread root); the
Messages and Home tabs are in connectors/slack/agent.py and home.py.
"""

from __future__ import annotations

import asyncio
import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from coach import seen
from coach.i18n import _
from kernel.errors import NotFound
from coach.messages import IncomingMessage
from connectors.slack import agent
from connectors.slack.blocks import answer_blocks, button_action, fallback_text
from connectors.slack.connect import SharedChannels, outside
from connectors.slack.delivery import FAILED, THINKING, Place, Replier, learner_id, speaking_to
from connectors.slack.home import after_home_action
from connectors.slack.inbox import CONTEXT_KEY, LEFT_KEY, SlackInbox
from connectors.slack.installations import Installations, OAuthStates
from connectors.slack.nudge_modal import register as register_nudges
from connectors.slack.text import plain_text

log = logging.getLogger(__name__)

SCOPES = ["app_mentions:read", "assistant:write", "channels:history", "channels:read", "chat:write", "commands",
          "groups:history", "groups:read", "im:history", "im:read", "im:write", "mpim:history", "mpim:read",
          "users:read"]
# `/coach <word>`: what the word means to the core (anything else is a question)
COMMANDS = {"": "help", "help": "help", "profile": "what do you know about me", "me": "what do you know about me",
            "forget": "forget me", "pause": "pause", "resume": "resume", "lesson": "lesson"}
FEEDBACK_VIEW = "coach_feedback_note"
NUDGE_WORDS = ("nudge", "nudges")  # managers: `/coach nudge` opens the form, `/coach nudges` lists theirs


def make_client(settings, token: str | None = None) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # 429: wait Retry-After
    return client


def build(container) -> AsyncApp:
    settings, engine, coach = container.settings, container.engine, container.coach
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value() or None,
        request_verification_enabled=bool(settings.slack_signing_secret),
        client=make_client(settings, None if oauth else settings.slack_bot_token.get_secret_value()),
        oauth_flow=AsyncOAuthFlow(client=make_client(settings), settings=AsyncOAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.get_secret_value(), scopes=SCOPES,
            installation_store=Installations(settings.slack_client_id, engine),
            state_store=OAuthStates(engine))) if oauth else None,
    )
    app.inbox = SlackInbox(engine, settings.inbox_lease_s, app)  # questions survive a replica that dies mid-answer
    app.use(app.inbox.middleware)
    replier = Replier(coach, settings.slack_update_interval_s, settings.slack_native_streaming)
    known, channels = set(), SharedChannels()

    async def get_to_know(client: AsyncWebClient, team: str, user: str) -> bool:
        """A new learner's name (so the redactor removes it), time zone (for nudges) and locale, from their Slack
        profile; True when the coach met them just now."""
        learner = learner_id(team, user)
        if learner in known or await asyncio.to_thread(coach.knows, learner):
            known.add(learner)
            return False
        try:
            info = (await client.users_info(user=user, include_locale=True))["user"]
        except Exception as exc:  # a profile helps; without one the question is still answered (and the next
            log.warning("users.info failed for a new learner: %s", exc)  # message tries again)
            return False
        known.add(learner)
        return await asyncio.to_thread(
            coach.meet, learner, name=info.get("real_name") or info.get("profile", {}).get("real_name"),
            timezone=info.get("tz"), locale=info.get("locale"))

    async def answer_once(event: dict, body: dict, context, client: AsyncWebClient, *, public: bool,
                          thread_ts: str) -> None:
        team = context.team_id or event.get("team", "")
        key = f"slack:msg:{team}:{event['channel']}:{event['ts']}"
        if not await asyncio.to_thread(seen.first_time, engine, key, context.get(CONTEXT_KEY)):
            return  # the twin of a mention, or a redelivery: answered already (or being answered)
        if public:  # follow-ups in this thread are for the coach even without a mention
            await asyncio.to_thread(seen.first_time, engine, thread_key(team, event["channel"], thread_ts))
        await get_to_know(client, team, event["user"])
        shared = await channels.shared(client, body=body, sender=event, channel=event["channel"], team=team,
                                       enterprise=context.enterprise_id)
        user_team = event.get("user_team") if outside(event.get("user_team"), team, None) else ""
        place = Place(team=team, channel=event["channel"], user=event["user"], ts=event["ts"], thread_ts=thread_ts,
                      public=public, shared=shared, user_team=user_team or "")
        if left := context.get(LEFT_KEY):  # a replica that died mid-answer left its half answer: gone before ours
            try:
                await client.chat_delete(channel=left["channel"], ts=left["ts"])
            except SlackApiError as exc:
                log.info("could not delete an unfinished answer (%s)", exc.response.get("error"))
        await replier.answer(client, place, plain_text(event.get("text", ""), context.bot_user_id),
                             context.bot_user_id, started=lambda channel, ts: app.inbox.started(context, channel, ts))

    @app.event("app_mention")
    async def on_mention(event, body, context, client):
        async with app.inbox.handling(context):
            if not event.get("bot_id"):
                await answer_once(event, body, context, client, public=True,
                                  thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    async def on_message(event, body, context, client):
        async with app.inbox.handling(context):
            await on_message_event(event, body, context, client)

    async def on_message_event(event, body, context, client):
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, other bots (Bolt already drops the coach's own messages)
        if event.get("channel_type") == "im":  # each DM message is a thread root, or a reply in one
            await answer_once(event, body, context, client, public=False,
                              thread_ts=event.get("thread_ts") or event["ts"])
            return
        thread_ts = event.get("thread_ts")
        mentioned = context.bot_user_id and f"<@{context.bot_user_id}" in event.get("text", "")
        team = context.team_id or event.get("team", "")
        if thread_ts and not mentioned and await asyncio.to_thread(
                seen.seen, engine, thread_key(team, event["channel"], thread_ts)):
            await answer_once(event, body, context, client, public=True, thread_ts=thread_ts)

    agent.register(app, container, get_to_know)
    nudge_command = register_nudges(app, engine, coach)

    async def ack_command(ack, command, context):
        if _first_word(command) in NUDGE_WORDS:
            await ack()  # a modal or the manager's list follows at once
            return
        async with speaking_to(coach, learner_id(context.team_id, command["user_id"])):
            await ack(response_type="ephemeral", text=_(THINKING))

    async def run_command(command, respond, context, client):
        word, _sep, rest = command.get("text", "").strip().partition(" ")
        if word.lower() in NUDGE_WORDS:
            await nudge_command(word.lower(), command, context, client, respond)
            return
        text = COMMANDS.get(word.lower(), command.get("text", "").strip())
        if word.lower() == "ask":
            text = rest
        await get_to_know(client, context.team_id, command["user_id"])
        shared = await channels.shared(client, body=command, sender={}, channel=command.get("channel_id", ""),
                                       team=context.team_id or "", enterprise=context.enterprise_id)
        message = IncomingMessage(learner_id=learner_id(context.team_id, command["user_id"]), text=text or "help",
                                  channel="dm", platform="slack", shared=shared)
        try:
            reply = await asyncio.to_thread(coach.ask, message)
        except Exception:
            log.exception("answering /coach failed")
            async with speaking_to(coach, message.learner_id):
                await respond(text=_(FAILED), response_type="ephemeral", replace_original=True)
            return
        await respond(text=fallback_text(reply), blocks=answer_blocks(reply), response_type="ephemeral",
                      replace_original=True)

    app.command("/coach")(ack=ack_command, lazy=[run_command])

    async def ack_only(ack):
        await ack()

    async def run_action(body, action, respond, context, client):
        kind, value = button_action(action)
        user = body["user"]["id"]
        learner, on_home = learner_id(context.team_id, user), (body.get("view") or {}).get("type") == "home"
        try:
            if kind == "not_helpful":
                await asyncio.to_thread(coach.feedback, need_id=value, learner_id=learner, helpful=False)
                async with speaking_to(coach, learner):
                    await client.views_open(trigger_id=body["trigger_id"], view=feedback_view(value))
                return
            reply = await asyncio.to_thread(coach.act, learner, kind, value)
        except (NotFound, ValueError) as exc:
            if on_home:
                await client.chat_postMessage(channel=user, text=str(exc))
            else:
                await respond(text=str(exc), response_type="ephemeral", replace_original=False)
            return
        if on_home:  # the Home tab has no message to answer under: the page is drawn again
            await after_home_action(client, coach, context.team_id, user, kind, reply)
            return
        # the confirmation of "forget me" is replaced by its outcome; answers keep their buttons
        await respond(text=fallback_text(reply), blocks=answer_blocks(reply), response_type="ephemeral",
                      replace_original=kind in ("forget_confirm", "cancel"))

    app.action(re.compile(r"^coach:"))(ack=ack_only, lazy=[run_action])

    @app.view(FEEDBACK_VIEW)
    async def on_feedback_note(ack, body, view, context):
        await ack()
        note = view["state"]["values"]["note"]["note"].get("value") or ""
        if note.strip():
            await asyncio.to_thread(coach.feedback, need_id=view["private_metadata"], helpful=False, note=note,
                                    learner_id=learner_id(context.team_id, body["user"]["id"]))

    return app


def _first_word(command: dict) -> str:
    return command.get("text", "").strip().partition(" ")[0].lower()


def thread_key(team: str, channel: str, thread_ts: str) -> str:
    return f"slack:thread:{team}:{channel}:{thread_ts}"


def feedback_view(need_id: str) -> dict:
    """The modal after "Not helpful", in the language spoken."""
    return {
        "type": "modal", "callback_id": FEEDBACK_VIEW, "private_metadata": need_id,
        "title": {"type": "plain_text", "text": _("What was missing?")[:24]},
        "submit": {"type": "plain_text", "text": _("Send")[:24]},
        "close": {"type": "plain_text", "text": _("Skip")[:24]},
        "blocks": [{"type": "input", "block_id": "note", "optional": True,
                    "label": {"type": "plain_text", "text": _("Tell L&D what the answer lacked (optional)")},
                    "element": {"type": "plain_text_input", "action_id": "note", "multiline": True,
                                "max_length": 2000}}],
    }
