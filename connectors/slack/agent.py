"""Slack's agent messaging experience (manifest `features.agent_view`, docs.slack.dev "Migrating to the Agent messaging
experience", 2026-06): opening the coach's Messages tab (`app_home_opened`, `tab == "messages"`) greets a learner the
coach meets for the first time and pins suggested prompts (`assistant.threads.setSuggestedPrompts` without a
`thread_ts`: with one, Slack drops the call for an agent app); `app_context_changed` (what the learner is looking at)
turns the prompts towards a channel's topic; the Home tab (`tab == "home"`) is the learner's own page.

Installs made before June 2026 still send the assistant-pane events (`assistant_thread_started`,
`assistant_thread_context_changed`); they get the same welcome and prompts in their assistant thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from coach.i18n import N_, _
from connectors.slack.delivery import learner_id, speaking_to
from connectors.slack.home import publish_home
from kernel.text import shorten

log = logging.getLogger(__name__)

WELCOME = N_("Hi! Ask me anything about how we work here: I answer from the company's learning content, with "
             "sources. Pick a suggestion, or say *help* to see what else I can do.")
PROMPTS_TITLE = N_("Try asking")
# sent as the learner's message: in each language a phrase the core recognises (coach/self_service.py)
OWN_PROMPTS = (N_("What should I learn next?"), N_("What do you know about me?"))
MAX_PROMPTS = 4  # Slack shows at most four
_CHANNEL_ENTITY = "slack#/types/channel_id"

GetToKnow = Callable[[AsyncWebClient, str, str], Awaitable[bool]]  # (client, team, user) -> met just now


def register(app: AsyncApp, container, get_to_know: GetToKnow) -> None:
    coach, knowledge, framework = container.coach, container.knowledge, container.coach.framework
    last_prompts: dict[str, list[dict]] = {}  # learner -> the prompts a context change pinned last

    async def pin(client: AsyncWebClient, learner: str, channel: str, prompts: list[dict],
                  thread_ts: str | None = None, *, if_changed: bool = False) -> None:
        """`if_changed`: a learner moving between channels fires a context change each time; the same prompts are
        not sent again."""
        if if_changed and last_prompts.get(learner) == prompts:
            return
        try:
            await client.assistant_threads_setSuggestedPrompts(channel_id=channel, thread_ts=thread_ts,
                                                               title=_(PROMPTS_TITLE), prompts=prompts)
            last_prompts[learner] = prompts
        except SlackApiError as exc:  # prompts help; without them the learner can still type
            log.warning("setting suggested prompts failed: %s", exc.response.get("error"))

    async def greet(client: AsyncWebClient, team: str, user: str, channel: str, thread_ts: str | None = None):
        met, learner = await get_to_know(client, team, user), learner_id(team, user)
        async with speaking_to(coach, learner):  # known now: their profile's language, or their Slack locale's
            if met:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=_(WELCOME))
            prompts = await asyncio.to_thread(suggested_prompts, knowledge, framework)
            await pin(client, learner, channel, prompts, thread_ts)

    @app.event("app_home_opened")
    async def on_home_opened(event, context, client):
        team, user = context.team_id or "", event.get("user", "")
        if event.get("tab") == "home":
            await get_to_know(client, team, user)
            await publish_home(client, coach, team, user)
        elif event.get("tab") == "messages" and event.get("channel"):
            await greet(client, team, user, event["channel"])

    @app.event("app_context_changed")
    async def on_context_changed(event, context, client):
        """Looking at a channel: prompts about what its name, topic and purpose say it is for."""
        user = event.get("user") or context.user_id
        channel = next((e.get("value") for e in (event.get("context") or {}).get("entities", [])
                        if isinstance(e, dict) and e.get("type") == _CHANNEL_ENTITY), None)
        if not user or not isinstance(channel, str):
            return
        try:
            info = (await client.conversations_info(channel=channel))["channel"]
            dm = event.get("channel") or (await client.conversations_open(users=user))["channel"]["id"]
        except SlackApiError as exc:
            log.info("no context prompts: %s", exc.response.get("error"))
            return
        about = " ".join(filter(None, (info.get("name"), (info.get("topic") or {}).get("value"),
                                       (info.get("purpose") or {}).get("value"))))
        learner = learner_id(context.team_id or "", user)
        async with speaking_to(coach, learner):
            prompts = await asyncio.to_thread(suggested_prompts, knowledge, framework, about)
            await pin(client, learner, dm, prompts, if_changed=True)

    @app.event("assistant_thread_started")
    async def on_assistant_thread(event, context, client):
        thread = event.get("assistant_thread") or {}
        if thread.get("channel_id") and thread.get("user_id"):
            await greet(client, context.team_id or "", thread["user_id"], thread["channel_id"],
                        thread.get("thread_ts"))

    @app.event("assistant_thread_context_changed")
    async def on_assistant_context(event):
        """Answered (Slack wants its 200) and otherwise left: what a learner looks at comes from
        app_context_changed."""


def suggested_prompts(knowledge, framework, about: str = "") -> list[dict]:
    """Two prompts about content everyone may read (the newest, or what `about` is about), then the coach's own, in
    the language spoken. Titles are sources' titles only: nothing restricted, nothing about the learner."""
    public = [s for s in knowledge.sources() if s.audience == ["everyone"]]
    topics = set(framework.tag(about)) if about else set()
    matching = [s for s in public if topics & set(s.competencies)]
    newest = sorted(matching or public, key=lambda s: s.updated_at, reverse=True)
    prompts = [{"title": shorten(_("About {title}").format(title=s.title), 75),
                "message": _("What should I know about {title}?").format(title=s.title)} for s in newest[:2]]
    own = [{"title": _(text), "message": _(text)} for text in OWN_PROMPTS]
    return (prompts + own)[:MAX_PROMPTS]
