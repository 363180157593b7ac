"""Teams in the learner's language, through the real /api/messages endpoint with Bot Framework JWTs checked against a
local OpenID provider: the activity's locale reaches the core, and the card's own words follow the reply's language.
The expected texts are computed with `speaking`, so these hold before and after the Dutch catalog is filled in."""

from __future__ import annotations

import pytest

from coach.i18n import _, speaking
from coach.learners import find
from connectors.teams.bot import WELCOME
from connectors.teams.delivery import THINKING
from tests.fakes.bot_connector import BotConnector, FixedTokenCredentialFactory, OpenIdProvider
from tests.integration.teams_helpers import TENANT, installed, personal_message
from tests.integration.test_teams import answers, cards, start

APP_ID = "00000000-0000-4000-8000-00000000c0ac"
QUESTION = "report phishing?"  # too short to say its language: the client's locale decides


def said(language: str, text: str) -> str:
    with speaking(language):
        return _(text)


def sources_heading(sent) -> str:
    [card] = cards(sent)
    [sources] = [block for block in card["body"] if block.get("type") == "Container"]
    return sources["items"][0]["text"]


@pytest.fixture
def connector():
    server = BotConnector()
    yield server
    server.close()


@pytest.fixture
def openid():
    provider = OpenIdProvider()
    yield provider
    provider.close()


@pytest.fixture
def teams(tmp_path, embedder, openid):
    """The app server with an app id (only signed activities get in) and a record of what reaches the core."""
    http, container = start(tmp_path, embedder, credentials=FixedTokenCredentialFactory(APP_ID, "secret", token="t"),
                            MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="secret",
                            TEAMS_OPENID_METADATA_URL=openid.metadata_url, TEAMS_TOKEN_ISSUER=openid.issuer)
    asked, ask = [], container.coach.ask

    def recording(message, on_partial=None, cancel=None):
        reply = ask(message, on_partial, cancel)
        asked.append((message, reply))
        return reply

    container.coach.ask = recording
    with http:
        yield http, container, asked


def post(http, openid, activity: dict):
    token = openid.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    response = http.post("/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 202)
    return response


def test_a_new_learner_on_a_dutch_teams_client_is_welcomed_and_answered_in_dutch(teams, connector, openid):
    http, container, asked = teams
    post(http, openid, installed(connector.base_url, who="noor") | {"locale": "nl-NL"})
    [welcome] = connector.of("message")
    assert welcome.activity["text"] == said("nl", WELCOME).format(name=" Noor")

    post(http, openid, personal_message(connector.base_url, QUESTION, who="noor", locale="nl-NL"))
    [(message, reply)] = asked
    assert message.locale == "nl-NL" and reply.language == "nl"
    assert find(container.engine, f"teams:{TENANT}:aad-noor").language == "nl"  # Directory.meet kept it
    informative = connector.of("typing")[0]
    assert informative.activity["text"] == said("nl", THINKING)
    answer = answers(connector)[-1]
    assert sources_heading(answer) == said("nl", "Sources")
    [card] = cards(answer)
    [not_helpful] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    assert not_helpful["card"]["actions"][0]["title"] == said("nl", "Send")


def test_an_english_client_stays_english_and_the_locale_of_each_message_counts(teams, connector, openid):
    http, container, asked = teams
    post(http, openid, personal_message(connector.base_url, QUESTION, who="sam", locale="en-US"))
    [(message, reply)] = asked
    assert message.locale == "en-US" and reply.language == "en"
    assert find(container.engine, f"teams:{TENANT}:aad-sam").language == "en"
    assert sources_heading(answers(connector)[-1]) == "Sources"
    assert connector.of("typing")[0].activity["text"] == "Looking through the learning content…"

    # the same learner on a Dutch client: the message's locale wins over the profile's language
    post(http, openid, personal_message(connector.base_url, QUESTION, who="sam", locale="nl-NL"))
    message, reply = asked[-1]
    assert message.locale == "nl-NL" and reply.language == "nl"
    assert sources_heading(answers(connector)[-1]) == said("nl", "Sources")
