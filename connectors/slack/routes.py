"""Slack on the app server: HTTP events at /slack/events (and the OAuth install pages), or Socket Mode."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, FastAPI, Request

from coach import seen
from connectors.background import keep_running
from connectors.slack.bolt_app import build, make_client
from connectors.slack.proactive import SlackDelivery
from connectors.slack.requests import rejection

log = logging.getLogger(__name__)


def mount(app: FastAPI, container) -> None:
    settings = container.settings
    if not settings.slack_enabled:
        return
    bolt = build(container)
    app.state.slack = bolt
    app.state.deliveries.add(delivery(bolt, settings))
    app.state.on_start.append(lambda: asyncio.to_thread(seen.forget_older_than, container.engine))
    keep_running(app, bolt.inbox.run)  # what dead replicas left in the inbox, answered here
    if settings.slack_signing_secret:
        from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

        handler, router = AsyncSlackRequestHandler(bolt), APIRouter()

        async def handle_event(request: Request):
            refused = rejection(settings.slack_signing_secret.get_secret_value(), await request.body(), request.headers)
            return refused or await handler.handle(request)  # Bolt reads the body Starlette keeps

        async def handle_install(request: Request):
            return await handler.handle(request)

        router.add_api_route("/slack/events", handle_event, methods=["POST"], include_in_schema=False)
        if bolt.oauth_flow:
            router.add_api_route("/slack/install", handle_install, methods=["GET"], include_in_schema=False)
            router.add_api_route("/slack/oauth_redirect", handle_install, methods=["GET"], include_in_schema=False)
        app.include_router(router)
        log.info("Slack: events at /slack/events%s", " and installs at /slack/install" if bolt.oauth_flow else "")
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        sockets = []  # made inside the server's event loop, which the handler binds to

        async def connect() -> None:
            sockets.append(AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value()))
            await sockets[0].connect_async()

        async def close() -> None:
            await sockets[0].close_async()

        app.state.on_start.append(connect)
        app.state.on_stop.append(close)
        log.info("Slack: Socket Mode")


def delivery(bolt, settings) -> SlackDelivery:
    """Proactive DMs with the workspace's client: the single bot token, or the one its installation stored."""
    async def client_for(team: str):
        if not bolt.oauth_flow:
            return bolt.client
        bot = await bolt.oauth_flow.settings.installation_store.async_find_bot(enterprise_id=None, team_id=team)
        return make_client(settings, bot.bot_token) if bot else None

    return SlackDelivery(client_for, settings.slack_sends_per_second)
