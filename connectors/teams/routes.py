"""Teams on the app server: Bot Framework activities at POST /api/messages, authenticated as the Bot Connector
signs them; messages are answered after the HTTP response (Teams redelivers after 15 s), card actions before it."""

from __future__ import annotations

import logging

from botbuilder.core import CloudAdapterBase
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector import Channels
from botframework.connector.auth import (AuthenticationConfiguration, AuthenticationConstants,
                                         BotFrameworkAuthenticationFactory, PasswordServiceClientCredentialFactory,
                                         ServiceClientCredentialsFactory)
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from connectors.background import keep_running
from connectors.teams.bot import CoachBot
from connectors.teams.inbox import TeamsInbox
from connectors.teams.requests import parse

log = logging.getLogger(__name__)


class Adapter(CloudAdapterBase):
    """botbuilder's adapter without its aiohttp front door: the route below is the front door."""

    def __init__(self, authentication) -> None:
        super().__init__(authentication)
        self.on_turn_error = self.log_error

    @staticmethod
    async def log_error(context, error: Exception) -> None:
        log.error("a Teams turn failed: %s", error, exc_info=error)


def authentication(settings, credentials: ServiceClientCredentialsFactory | None = None):
    """The public Azure cloud by default; `TEAMS_OPENID_METADATA_URL` / `TEAMS_TOKEN_ISSUER` for another one (a
    sovereign cloud, or a test's local OpenID provider). `credentials`: how outgoing calls get their token."""
    credentials = credentials or PasswordServiceClientCredentialFactory(
        settings.microsoft_app_id or None, settings.microsoft_app_password.get_secret_value() or None,
        settings.microsoft_app_tenant_id or None)
    if not (settings.teams_openid_metadata_url or settings.teams_token_issuer):
        return BotFrameworkAuthenticationFactory.create(credential_factory=credentials,
                                                        auth_configuration=AuthenticationConfiguration())
    metadata = settings.teams_openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    tenant = settings.microsoft_app_tenant_id or "botframework.com"
    return BotFrameworkAuthenticationFactory.create(
        channel_service="", validate_authority=False,
        to_channel_from_bot_login_url=f"https://login.microsoftonline.com/{tenant}",
        to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        to_bot_from_channel_token_issuer=settings.teams_token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        oauth_url=AuthenticationConstants.OAUTH_URL, to_bot_from_channel_open_id_metadata_url=metadata,
        to_bot_from_emulator_open_id_metadata_url=metadata, caller_id=None, credential_factory=credentials,
        auth_configuration=AuthenticationConfiguration())


def build_bot(container, credentials: ServiceClientCredentialsFactory | None = None) -> CoachBot:
    """The bot and its adapter: for the app server, and for `coach worker`'s proactive messages."""
    settings = container.settings
    adapter = Adapter(authentication(settings, credentials))
    return CoachBot(container, adapter, settings.microsoft_app_id, settings.teams_update_interval_s)


def mount(app: FastAPI, container, credentials: ServiceClientCredentialsFactory | None = None) -> None:
    settings = container.settings
    bot = build_bot(container, credentials)
    adapter = bot.adapter
    app.state.teams = bot
    app.state.deliveries.add(bot)

    authentication = adapter.bot_framework_authentication

    async def messages(request: Request) -> Response:
        """A caller without a valid token learns nothing about the body check: with an app id, a malformed body
        is told apart (400) only once its token passes every check that needs no activity (signature, issuer,
        audience, expiry, the key's endorsement for Teams); the service URL claim is checked against the activity's
        once there is one."""
        header = request.headers.get("Authorization", "")
        activity, problem = parse(await request.body())
        try:
            if activity is None:
                if settings.microsoft_app_id:
                    await authentication.authenticate_request(Activity(channel_id=Channels.ms_teams), header)
                return JSONResponse({"error": f"malformed activity: {problem}"}, status_code=400)
            auth = await authentication.authenticate_request(activity, header)
        except Exception as exc:  # botbuilder raises PermissionError, jwt errors, KeyError… for a bad token
            log.warning("Teams: refused an activity (%s)", exc)
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if activity.type == ActivityTypes.invoke:  # the card action's outcome goes back in this response
            response = await adapter.process_activity(auth, activity, bot.on_turn)
            if response is None:
                return Response(status_code=200)
            return JSONResponse(response.body, status_code=int(response.status))
        if activity.type != ActivityTypes.message:
            return Response(status_code=202, background=BackgroundTask(adapter.process_activity, auth, activity,
                                                                       bot.on_turn))
        key = await inbox.accept(activity, auth)  # held in the database before the 202: no answer lost with us
        if key is None:
            return Response(status_code=202)  # Teams redelivered it: it is answered (or being answered) already
        return Response(status_code=202, background=BackgroundTask(inbox.handle, key, auth, activity))

    inbox = TeamsInbox(container.engine, settings.inbox_lease_s, adapter, bot.on_turn)
    keep_running(app, inbox.run)  # what dead replicas left in the inbox, answered here

    app.add_api_route("/api/messages", messages, methods=["POST"], include_in_schema=False)
    if settings.microsoft_app_id:
        log.info("Teams: activities at /api/messages, authenticated for app %s", settings.microsoft_app_id)
    else:
        log.warning("Teams: MICROSOFT_APP_ID is not set, so /api/messages accepts activities WITHOUT authentication "
                    "(for local use with the Bot Framework Emulator); set it before exposing the app")
