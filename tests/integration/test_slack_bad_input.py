"""Bad input on /slack/events: unsigned or oddly signed requests get 401, correctly signed but malformed ones 400, and
no request of any shape gets a 500 (Bolt alone answers several of them with a traceback and a 500)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fakes.slack_api import SlackAPI
from tests.integration.slack_helpers import SECRET, event_body, signed_headers
from tests.integration.test_slack import start

JSON, FORM = "application/json", "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    from tests.conftest import HashingEmbedder

    api = SlackAPI()
    client, _ = start(tmp_path_factory.mktemp("slack"), HashingEmbedder(), api, content=False)
    with client:
        yield client
    api.close()


def post(http, body: str, content_type: str = JSON, **headers):
    return http.post("/slack/events", content=body.encode(), headers=signed_headers(body, content_type=content_type)
                     | headers)


@pytest.mark.parametrize("timestamp", ["abc", "", "12.5", "-1", "+1700000000", "١٧٠٠٠٠٠٠٠٠".encode(), "9" * 40])
def test_a_timestamp_that_is_not_whole_seconds_gets_401(http, timestamp):
    response = post(http, "{}", **{"X-Slack-Request-Timestamp": timestamp})
    assert response.status_code == 401 and response.json() == {"error": "invalid request"}


def test_malformed_bodies_are_only_told_apart_once_signed(http):
    unsigned = http.post("/slack/events", content=b"{not json", headers={
        "Content-Type": JSON, "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"})
    assert unsigned.status_code == 401  # a forger learns nothing about the body
    assert post(http, "{not json").status_code == 400


@pytest.mark.parametrize("body, content_type, problem", [
    ("{not json", JSON, "neither JSON nor a form"),
    ("[1, 2]", JSON, "not a JSON object"),
    ('"text"', JSON, "not a JSON object"),
    ("payload=%7Bnot", FORM, "neither JSON nor a form"),
    ("payload=%5B1%5D", FORM, "not a JSON object"),
    ('{"type": "event_callback", "team_id": "T1"}', JSON, "without an event object"),
    ('{"type": "event_callback", "team_id": "T1", "event": "x"}', JSON, "without an event object"),
    ('{"type": "event_callback", "event": {"type": "app_mention", "user": 5}}', JSON, "event.user"),
    ('{"type": "block_actions", "actions": {"a": 1}}', JSON, "actions"),
    ('{"type": "block_actions", "actions": [1]}', JSON, "actions"),
    ('{"type": "event_callback", "event": {}, "authorizations": [{"team_id": "T", "user": [1]}]}', JSON,
     "authorizations[0].user"),
    ('{"type": "view_submission", "view": [], "team": 3}', JSON, "team, view"),
])
def test_a_signed_request_with_a_malformed_body_gets_400_naming_the_problem(http, body, content_type, problem):
    response = post(http, body, content_type)
    assert response.status_code == 400 and problem in response.json()["error"]


def test_a_body_that_is_not_utf8_gets_400(http):
    body, stamp = b'{"type": "\xff"}', str(int(time.time()))
    import hashlib
    import hmac

    signature = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    response = http.post("/slack/events", content=body, headers={
        "Content-Type": JSON, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={signature}"})
    assert response.status_code == 400


def test_a_well_formed_request_still_reaches_bolt(http):
    response = post(http, json.dumps({"type": "url_verification", "challenge": "c0ffee"}))
    assert response.status_code == 200 and response.json() == {"challenge": "c0ffee"}


# any JSON value where Slack puts ids, objects and lists, inside the envelopes Slack sends
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)
_fields = ["type", "user", "team", "channel", "ts", "thread_ts", "text", "tab", "bot_id", "subtype", "channel_type",
           "view", "message", "enterprise", "assistant_thread", "actions", "container", "user_team", "event_ts"]
_event = st.dictionaries(st.sampled_from(_fields), _json | st.sampled_from(
    ["app_mention", "message", "app_home_opened", "app_context_changed", "assistant_thread_started", "im", "U1",
     "1700000000.000100", "messages", "home"]), max_size=8)
_payload = st.fixed_dictionaries({"type": st.sampled_from(["event_callback", "block_actions", "view_submission",
                                                           "shortcut", "url_verification"]) | _json},
                                 optional={"event": _event | _json, "team": _json, "user": _json,
                                           "actions": st.lists(st.dictionaries(st.sampled_from(
                                               ["action_id", "value", "type", "block_id"]), _json)) | _json,
                                           "authorizations": _json, "view": _json, "is_ext_shared_channel": _json,
                                           "team_id": _json, "channel": _json, "container": _json})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_payload, as_form=st.booleans())
def test_no_signed_request_of_any_shape_gets_a_server_error(http, payload, as_form):
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)}) if as_form else json.dumps(payload)
    assert post(http, body, FORM if as_form else JSON).status_code < 500


def test_the_envelope_of_a_real_event_passes_the_check():
    from connectors.slack.requests import shape_problem

    body = event_body({"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.0", "text": "hi",
                       "team": "T1", "blocks": [{"type": "rich_text", "elements": []}]})
    assert shape_problem(body.encode(), JSON) is None
