"""What reaches /slack/events is checked before Bolt sees it, so that bad input gets a clear 4xx and never a 500.

Bolt parses the body before it verifies the signature and trusts the shape of what it parsed: a non-numeric
timestamp, a body that is not JSON, or an `event` that is not an object each end in a 500 with a traceback. Here the
signature is checked first, over the raw bytes as Slack signs them (slack_sdk's verifier fails on a body that is
not UTF-8): 401, as Bolt answers a forgery. Only a correctly signed request is told that its body is malformed (400),
so a forger learns nothing about the body check.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from fastapi.responses import JSONResponse
from slack_bolt.request.internals import parse_body

WINDOW_S = 5 * 60  # Slack's and Bolt's: an older timestamp is a replay

# What Bolt reads without checking its type (slack_bolt/request/internals.py, payload_utils.py and the listener
# matchers), in the payload and in the parts it looks into the same way: ids as a string or an object (or null),
# objects (absent, never null: Bolt reads `payload.get("event", {}).get(...)`), lists of objects, and the names
# listeners are matched on, which must be strings.
_IDS = ("team", "user", "channel", "enterprise")
_OBJECTS = ("event", "view", "container", "message", "previous_message", "item", "assistant_thread", "function_data")
_LISTS = ("authorizations", "actions")
_NAMES = ("type", "action_id", "callback_id", "command", "team_id", "user_id", "channel_id", "enterprise_id",
          "api_app_id", "user_team", "context_team_id", "context_enterprise_id")
_NESTED = ("event", "message", "previous_message", "view")


def rejection(secret: str, body: bytes, headers) -> JSONResponse | None:
    """None for a request Bolt may handle; otherwise the response it gets (401 unsigned, 400 malformed)."""
    if not signed(secret, body, headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")):
        return JSONResponse({"error": "invalid request"}, status_code=401)
    problem = shape_problem(body, headers.get("content-type"))
    return JSONResponse({"error": f"malformed request: {problem}"}, status_code=400) if problem else None


def signed(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret, timestamp in seconds."""
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > WINDOW_S:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}".encode(), signature.encode("latin-1", "replace"))


def shape_problem(body: bytes, content_type: str | None) -> str | None:
    try:
        payload = parse_body(body.decode("utf-8"), content_type)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        return "the body is neither JSON nor a form Slack sends"
    if not isinstance(payload, dict):
        return "the payload is not a JSON object"
    if payload.get("type") == "event_callback" and not isinstance(payload.get("event"), dict):
        return "an event callback without an event object"
    wrong = list(dict.fromkeys(_wrong_fields(payload)))
    return f"unexpected {', '.join(wrong)}" if wrong else None


def _wrong_fields(payload: dict, where: str = ""):
    for field in _IDS:
        value = payload.get(field)
        if value is not None and not (isinstance(value, str) or isinstance(value, dict) and isinstance(
                value.get("id", ""), str)):
            yield where + field
    yield from (where + f for f in _OBJECTS if f in payload and not isinstance(payload[f], dict))
    yield from (where + f for f in _NAMES if f in payload and not isinstance(payload[f], str))
    if payload.get("subtype") is not None and not isinstance(payload["subtype"], str):
        yield where + "subtype"
    for field in _LISTS:
        items = payload.get(field)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            yield where + field
        elif items:  # Bolt looks into the first: the authorizing install, the action clicked
            yield from _wrong_fields(items[0], f"{where}{field}[0].")
    clicked = payload.get("actions")
    if payload.get("type") == "block_actions" and not (
            isinstance(clicked, list) and clicked and isinstance(clicked[0], dict) and "action_id" in clicked[0]):
        yield where + "actions"  # the action clicked, which Bolt matches listeners on
    for field in _NESTED:
        if isinstance(payload.get(field), dict):
            yield from _wrong_fields(payload[field], f"{where}{field}.")
