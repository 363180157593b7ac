"""Requests exactly as Slack sends them (signed JSON events, form-encoded commands and interactions) to the real
/slack/events endpoint of the app server, which talks to the mock Slack Web API."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import urlencode

from tests.fakes.slack_api import BOT_USER, TEAM

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_ids = itertools.count(1)


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None, content_type: str) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={signature}", "Content-Type": content_type}


def event_body(event: dict, *, team: str = TEAM, event_id: str | None = None) -> str:
    return json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": "A0COACH", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
    })


def mention(message: dict) -> dict:
    return {**message, "type": "app_mention", "event_ts": message["ts"]}


def as_message_event(message: dict, channel_type: str) -> dict:
    return {**message, "channel_type": channel_type, "event_ts": message["ts"]}


def command_body(text: str, *, user: str, response_url: str, team: str = TEAM) -> str:
    return urlencode({"token": "legacy", "team_id": team, "channel_id": "C0GENERAL", "user_id": user,
                      "command": "/coach", "text": text, "response_url": response_url,
                      "trigger_id": f"trig.{next(_ids)}", "api_app_id": "A0COACH"})


def interaction_body(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def button_click(action_id: str, value: str, *, user: str, response_url: str, team: str = TEAM) -> dict:
    return {"type": "block_actions", "team": {"id": team}, "user": {"id": user, "team_id": team},
            "api_app_id": "A0COACH", "trigger_id": f"trig.{next(_ids)}", "response_url": response_url,
            "container": {"type": "message", "channel_id": "C0GENERAL"}, "channel": {"id": "C0GENERAL"},
            "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b",
                         "action_ts": str(time.time())}]}


def feedback_click(value: str, *, user: str, response_url: str, team: str = TEAM) -> dict:
    """A click on Slack's feedback buttons under a message (`block_actions`, the action as bolt-js types it)."""
    click = button_click("coach:feedback", value, user=user, response_url=response_url, team=team)
    click["actions"][0] |= {"type": "feedback_buttons", "text": {"type": "plain_text", "text": "Helpful"}}
    return click


def view_submission(callback_id: str, private_metadata: str, values: dict, *, user: str, team: str = TEAM) -> dict:
    return {"type": "view_submission", "team": {"id": team}, "user": {"id": user, "team_id": team},
            "api_app_id": "A0COACH", "view": {"id": "V1", "type": "modal", "callback_id": callback_id,
                                              "private_metadata": private_metadata, "state": {"values": values}}}
