"""Bad input on /api/messages: a body that is not a Bot Framework activity gets 400 naming the problem, an invoke
with a malformed value its documented answer, a request without a valid token 401 when MICROSOFT_APP_ID is set
(before anything about its body is told), and no activity of any shape a 500 or a failed turn."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.conftest import HashingEmbedder
from tests.fakes.bot_connector import BotConnector, FixedTokenCredentialFactory, OpenIdProvider
from tests.integration.teams_helpers import BOT, card_action, personal_message, rating, user
from tests.integration.test_teams import APP_ID, start

CARD_ERROR = "application/vnd.microsoft.error"


@pytest.fixture(scope="module")
def connector():
    server = BotConnector()
    yield server
    server.close()


@pytest.fixture(scope="module")
def http(tmp_path_factory, connector):
    client, _ = start(tmp_path_factory.mktemp("teams"), HashingEmbedder(), content=False)
    with client:
        yield client


def post(http, body: bytes | str | dict, **headers):
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    return http.post("/api/messages", content=content, headers={"Content-Type": "application/json"} | headers)


def message(connector, **fields) -> dict:
    return personal_message(connector.base_url, "How do I report phishing?") | fields


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "the body is not JSON"),
    (b"", "the body is not JSON"),
    (b'{"type": "\xff"}', "the body is not JSON"),  # not UTF-8
    (b"null", "the body is not a JSON object"),
    (b"[1, 2]", "the body is not a JSON object"),
    (b'"message"', "the body is not a JSON object"),
    (b"{}", "the activity has no type, conversation.id, serviceUrl, from.id, recipient.id"),
])
def test_a_body_that_is_no_activity_gets_400_naming_the_problem(http, connector, body, problem):
    response = post(http, body)
    assert response.status_code == 400 and response.json() == {"error": f"malformed activity: {problem}"}


@pytest.mark.parametrize("fields, problem", [
    ({"conversation": "a:personal-sam"}, "of the wrong type: conversation"),
    ({"from": None, "recipient": [BOT]}, "of the wrong type: from, recipient"),
    ({"channelData": "msteams"}, "of the wrong type: channelData"),
    ({"channelData": {"tenant": "t1", "team": ["x"]}}, "of the wrong type: channelData.tenant, channelData.team"),
    ({"channelData": {"channel": {"id": ["19:c"]}}}, "of the wrong type: channelData.channel.id"),
    ({"entities": [{"type": "mention", "mentioned": "Coach"}, {"type": "mention", "text": 5}, {"text": "x"}]},
     "of the wrong type: entities[0].mentioned, entities[1].text, entities[2].type"),
    ({"timestamp": "yesterday"}, "the body is not a Bot Framework activity"),
    ({"membersAdded": [1]}, "the body is not a Bot Framework activity"),
    ({"type": ""}, "the activity has no type"),
    ({"recipient": {"name": "Coach"}}, "the activity has no recipient.id"),
    ({"conversation": {"tenantId": "t1"}}, "the activity has no conversation.id"),
    ({"serviceUrl": "file:///etc/passwd"}, "the activity's serviceUrl is not a web address"),
    ({"serviceUrl": "smba.trafficmanager.net/emea/"}, "the activity's serviceUrl is not a web address"),
])
def test_an_activity_of_the_wrong_shape_gets_400_and_reaches_no_one(http, connector, fields, problem):
    attempts = connector.attempts
    response = post(http, message(connector, **fields))
    assert response.status_code == 400 and response.json()["error"] == f"malformed activity: {problem}"
    assert connector.attempts == attempts


@pytest.mark.parametrize("value", ["helpful", [1], None, {"action": "helpful"}, {"action": {"verb": 5}},
                                   {"action": {"verb": "helpful", "data": [1]}}, {"action": {"verb": "no_such"}}])
def test_a_card_action_with_a_malformed_value_gets_the_universal_actions_error(http, connector, value):
    response = post(http, card_action(connector.base_url, "helpful", "n1") | {"value": value})
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and body["type"] == CARD_ERROR and body["value"]["code"] == "BadRequest"


@pytest.mark.parametrize("change", [{"value": "like"}, {"value": None}, {"value": {"actionName": "feedback"}},
                                    {"value": {"actionName": "feedback", "actionValue": {"reaction": "meh"}}},
                                    {"value": {"actionName": "share", "actionValue": {"reaction": "like"}}},
                                    {"replyToId": None}, {"replyToId": ""}])
def test_a_feedback_invoke_with_a_malformed_value_gets_400(http, connector, change):
    response = post(http, rating(connector.base_url, "1700000000001") | change)
    assert response.status_code == 400 and "error" in response.json()


def test_a_well_formed_rating_of_a_message_the_coach_never_sent_gets_teams_empty_200(http, connector):
    response = post(http, rating(connector.base_url, "1699999999999", "dislike", "?"))
    assert response.status_code == 200 and response.json() == {}


def test_an_invoke_the_coach_does_not_handle_gets_botbuilders_501(http, connector):
    response = post(http, card_action(connector.base_url, "x", "") | {"name": "composeExtension/query"})
    assert response.status_code == 501  # "not implemented", as botbuilder answers it: never a 500


# any JSON value where Teams puts ids, objects and lists: in the envelope (mostly refused), and inside a well-formed
# one (handled by the bot). serviceUrl stays the mock connector's: answers elsewhere would only wait out retries.
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)
_account = st.fixed_dictionaries({"id": st.sampled_from(["29:sam", "28:coach-bot", ""]) | _json},
                                 optional={"name": _json, "aadObjectId": _json, "role": _json}) | _json
_verbs = st.sampled_from(["helpful", "not_helpful", "lesson", "answer", "ask_human", "forget", "forget_confirm",
                          "cancel", "resume", "nudge_new", "nudge_save", "nudge_edit", "nudge_pause", "nudge_resume",
                          "nudge_delete"])
_card_value = st.fixed_dictionaries({"action": st.fixed_dictionaries({"type": st.just("Action.Execute"),
                                                                      "verb": _verbs | _json}, optional={
    "data": st.dictionaries(st.sampled_from(["coach", "value", "note", "message", "lesson", "audience", "when",
                                             "time", "weekdays", "timezone"]), _verbs | _json, max_size=5) | _json})})
_submitted = st.dictionaries(st.sampled_from(["coach", "value", "note"]), _verbs | _json, max_size=3)  # Action.Submit
_rating_value = st.fixed_dictionaries({"actionName": st.just("feedback") | _json, "actionValue": st.fixed_dictionaries(
    {"reaction": st.sampled_from(["like", "dislike"]) | _json, "feedback": st.text(max_size=20) | _json}) | _json})
_conversation = st.fixed_dictionaries({"id": st.sampled_from(["a:personal-sam", "19:c@thread.tacv2;messageid=1"])},
                                      optional={"conversationType": st.sampled_from(["personal", "channel",
                                                                                     "groupChat"]) | _json,
                                                "tenantId": _json, "isGroup": st.booleans()})
_member = _account.filter(lambda a: isinstance(a, dict))
_common = {  # what any activity may carry inside a well-formed envelope
    "replyToId": _json, "locale": _json, "timestamp": st.none() | st.just("2026-12-02T10:00:00Z"),
    "channelData": st.fixed_dictionaries({}, optional={"tenant": st.fixed_dictionaries({"id": _json}) | st.none(),
                                                        "channel": st.fixed_dictionaries({"id": _json}) | st.none(),
                                                        "team": st.dictionaries(st.just("id"), _json),
                                                        "eventType": _json}),
    "entities": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["mention", "clientInfo"]) | _json},
                                               optional={"mentioned": _member, "text": _json}), max_size=2),
}
_by_type = {  # what each activity type carries besides
    "message": {"text": st.sampled_from(["help", "forget me", "nudge", "my nudges", "pause", "<at>Coach</at> hi",
                                         "How do I report phishing?"]) | _json, "value": _submitted | _json},
    "invoke": {"name": st.sampled_from(["adaptiveCard/action", "message/submitAction", "task/fetch"]) | _json,
               "value": _card_value | _rating_value | _json},
    "conversationUpdate": {"membersAdded": st.lists(_member, max_size=2) | st.just([BOT]),
                           "membersRemoved": st.lists(_member, max_size=2)},
    "installationUpdate": {"action": st.sampled_from(["add", "remove"]) | _json},
    "messageReaction": {"reactionsAdded": st.lists(st.fixed_dictionaries({"type": _json}), max_size=2)},
}
_envelope = st.fixed_dictionaries({"type": st.sampled_from(sorted(_by_type)) | _json, "id": _json, "from": _account,
                                   "recipient": st.just(BOT) | _account, "conversation": _conversation | _json},
                                  optional=_common | {k: v for fields in _by_type.values() for k, v in fields.items()})
_in_envelope = st.one_of(*[st.fixed_dictionaries(
    {"type": st.just(kind), "id": st.uuids().map(str), "from": st.just(user("sam")), "recipient": st.just(BOT),
     "conversation": _conversation}, optional=_common | fields) for kind, fields in _by_type.items()])


_sam = {"id": "e", "from": user("sam"), "recipient": BOT, "conversation": {"id": "a:personal-sam"}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activity=_in_envelope | _envelope)
@example(activity=_sam | {"type": "message", "id": "e1", "value": {"coach": 5}})  # found by this test before
@example(activity=_sam | {"type": "invoke", "id": "e2", "channelData": {"tenant": None}, "name": "adaptiveCard/action",
                          "value": {"action": {"verb": "helpful", "data": {"value": "n1"}}}})
def test_no_activity_of_any_shape_gets_a_server_error_or_fails_its_turn(http, connector, caplog, activity):
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="connectors.teams"):
        response = post(http, activity | {"serviceUrl": connector.base_url, "channelId": "msteams"})
    assert response.status_code in (200, 202, 400, 501)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("connectors.teams")] == []


# --- with MICROSOFT_APP_ID: only Bot Framework tokens get in, and only they are told what is wrong with a body ---


@pytest.fixture(scope="module")
def openid():
    provider = OpenIdProvider()
    yield provider
    provider.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, connector, openid):
    client, _ = start(tmp_path_factory.mktemp("teams-auth"), HashingEmbedder(), content=False,
                      credentials=FixedTokenCredentialFactory(APP_ID, "secret"), MICROSOFT_APP_ID=APP_ID,
                      MICROSOFT_APP_PASSWORD="secret", TEAMS_OPENID_METADATA_URL=openid.metadata_url,
                      TEAMS_TOKEN_ISSUER=openid.issuer)
    with client:
        yield client


def test_without_a_valid_token_every_request_gets_401_whatever_its_body(guarded, connector, openid):
    url = connector.base_url
    bodies = [b"{not json", b"null", message(connector, conversation="a:1"), message(connector),
              card_action(url, "helpful", "n1") | {"value": "x"}, rating(url, "1700000000001")]
    headers = [{}, {"Authorization": "Bearer not-a-jwt"},
               {"Authorization": "Bearer " + openid.token(app_id="someone-else", service_url=url)},
               {"Authorization": "Bearer " + openid.token(app_id=APP_ID, service_url=url, expires_in=-600)}]
    attempts = connector.attempts
    for body in bodies:
        for header in headers:
            response = post(guarded, body, **header)
            assert response.status_code == 401 and response.json() == {"error": "unauthorized"}, (body, header)
    assert connector.attempts == attempts


def test_with_a_valid_token_a_malformed_body_is_told_apart(guarded, connector, openid):
    url = connector.base_url
    token = {"Authorization": "Bearer " + openid.token(app_id=APP_ID, service_url=url)}
    assert post(guarded, b"{not json", **token).json() == {"error": "malformed activity: the body is not JSON"}
    assert post(guarded, message(connector, conversation="a:1"), **token).status_code == 400
    card = post(guarded, card_action(url, "helpful", "n1") | {"value": "x"}, **token)
    assert card.status_code == 400 and card.json()["type"] == CARD_ERROR
    assert post(guarded, rating(url, "1700000000001") | {"value": {}}, **token).status_code == 400
    unknown = post(guarded, rating(url, "1700000000001"), **token)
    assert unknown.status_code == 200 and unknown.json() == {}
    elsewhere = {"Authorization": "Bearer " + openid.token(app_id=APP_ID, service_url="https://evil.example.com/")}
    assert post(guarded, message(connector), **elsewhere).status_code == 401  # the activity's serviceUrl is checked
