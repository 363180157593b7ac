"""No accepted Teams question is lost with a replica: the message activity is held in the inbox (coach/inbox.py)
from before the 202 until it is answered; a replica that dies mid-answer leaves it to the next, which answers it
with the identity the token proved (its replies carry the bot's credentials to the same service URL), once. With
Bot Framework tokens from a local OpenID provider, against the mock Bot Connector. (A replica that stops
gracefully releases what it holds, as tests/integration/test_slack_inbox.py shows for Slack: the same Holder.)"""

from __future__ import annotations

import asyncio
import json
import time

from botbuilder.schema import Activity

from sqlmodel import select

from coach import inbox
from coach.store.models import InboxEvent
from connectors.teams.inbox import TeamsInbox
from kernel.store import session
from tests.fakes.bot_connector import FixedTokenCredentialFactory
from tests.integration.teams_helpers import personal_message
from tests.integration.test_teams import (APP_ID, OUTGOING_TOKEN, answers, connector, openid,  # noqa: F401
                                          start)


def guarded(tmp_path, embedder, openid, content: bool = True, **settings):
    return start(tmp_path, embedder, content=content, **settings,
                 credentials=FixedTokenCredentialFactory(APP_ID, "secret", token=OUTGOING_TOKEN),
                 MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="secret", TEAMS_OPENID_METADATA_URL=openid.metadata_url,
                 TEAMS_TOKEN_ISSUER=openid.issuer)


def test_a_question_a_dead_replica_accepted_is_answered_once_by_another_with_its_proven_identity(
        tmp_path, embedder, connector, openid):
    http, container = guarded(tmp_path, embedder, openid, COACH_INBOX_LEASE_S=1)
    question = personal_message(connector.base_url, "How do I report phishing?")
    header = "Bearer " + openid.token(app_id=APP_ID, service_url=connector.base_url)
    adapter = http.app.state.teams.adapter

    async def accepted_by_a_replica_that_then_died() -> str:
        activity = Activity().deserialize(question)
        auth = await adapter.bot_framework_authentication.authenticate_request(activity, header)  # the real check
        return await TeamsInbox(container.engine, 0.05, adapter, None).accept(activity, auth)

    key = asyncio.run(accepted_by_a_replica_that_then_died())
    time.sleep(0.1)  # its lease has run out
    with http:
        redelivered = http.post("/api/messages", json=question, headers={"Authorization": header})
        assert redelivered.status_code == 202  # Teams' redelivery meanwhile: acknowledged, not answered twice
        connector.wait_for(lambda sent: len(answers(connector)) >= 1)
        deadline = time.monotonic() + 20
        while inbox.pending(container.engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a doubled answer would be in by now
        [answer] = answers(connector)
    assert "How to report phishing" in json.dumps(answer.activity) and answer.token == OUTGOING_TOKEN
    with session(container.engine) as db:
        done = db.get(InboxEvent, key)
    assert (done.state, done.attempts, done.payload) == ("done", 2, "")
