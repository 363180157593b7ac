"""Slack Connect: is another organisation in this conversation? Then the coach answers only from `everyone` content
and sends nothing restricted, not even privately (the core's `IncomingMessage.shared`).

Three signals, cheapest first: the event envelope's `is_ext_shared_channel`; a sender whose `user_team` /
`source_team` is not the installing workspace (or its Enterprise Grid org); and, authoritative, `conversations.info`'s
`is_ext_shared` / `is_pending_ext_shared` for the channel, cached a few minutes per process. When Slack cannot say,
a channel counts as shared: the coach fails closed.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

TTL_S = 300.0  # a channel shared (or unshared) since is seen within this long


class SharedChannels:
    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[float, bool]] = {}  # channel -> (when asked, shared)

    async def shared(self, client: AsyncWebClient, *, body: dict, sender: dict, channel: str, team: str,
                     enterprise: str | None = None) -> bool:
        """`sender`: the event (or anything with `user_team` / `source_team`); `channel` a DM (D…) is asked about
        only through its sender: a DM holds the learner and the coach."""
        if body.get("is_ext_shared_channel") is True:
            return True
        if any(outside(sender.get(field), team, enterprise) for field in ("user_team", "source_team")):
            return True
        if not channel or channel.startswith("D"):
            return False
        return await self._conversation_is_shared(client, channel)

    async def _conversation_is_shared(self, client: AsyncWebClient, channel: str) -> bool:
        known = self._known.get(channel)
        if known and time.monotonic() - known[0] < self.ttl_s:
            return known[1]
        try:
            info = (await client.conversations_info(channel=channel))["channel"]
            shared = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
        except (SlackApiError, KeyError, TypeError) as exc:
            log.warning("conversations.info failed for %s (%s): answering as in a shared channel", channel, exc)
            return True  # not cached: the next question asks again
        self._known[channel] = (time.monotonic(), shared)
        return shared


def outside(team_of_sender: object, team: str, enterprise: str | None) -> bool:
    """An org (E…) other than the installing Enterprise Grid, or a workspace (T…) other than the installing one.
    Another workspace of the same Grid counts as outside too (the event cannot tell): the safe side. An org-wide
    install has no workspace of its own, so there only the org is compared."""
    if not isinstance(team_of_sender, str) or not team_of_sender:
        return False
    if team_of_sender.startswith("E"):
        return team_of_sender != enterprise
    return bool(team) and team_of_sender != team
