"""Workspaces that installed the app through Slack's OAuth flow, kept in the product's database.

slack_sdk's SQLAlchemy stores do the work (tables `slack_installations`, `slack_bots`, `slack_oauth_states`, created
on start if missing); these adapters give Bolt's async app their async interface, running each call in a thread.
"""

from __future__ import annotations

import asyncio

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

STATE_EXPIRES_S = 600


class Installations(AsyncInstallationStore):
    def __init__(self, client_id: str, engine: Engine) -> None:
        self.store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        self.store.create_tables()

    @property
    def logger(self):
        return self.store.logger

    async def async_save(self, installation):
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot):
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(self, **kwargs):
        return await asyncio.to_thread(lambda: self.store.find_bot(**kwargs))

    async def async_find_installation(self, **kwargs):
        return await asyncio.to_thread(lambda: self.store.find_installation(**kwargs))

    async def async_delete_bot(self, **kwargs):
        await asyncio.to_thread(lambda: self.store.delete_bot(**kwargs))

    async def async_delete_installation(self, **kwargs):
        await asyncio.to_thread(lambda: self.store.delete_installation(**kwargs))


class OAuthStates(AsyncOAuthStateStore):
    def __init__(self, engine: Engine) -> None:
        self.store = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRES_S, engine=engine)
        self.store.create_tables()

    @property
    def logger(self):
        return self.store.logger

    async def async_issue(self, *args, **kwargs) -> str:
        return await asyncio.to_thread(self.store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)
