"""Bot Framework activities as Teams sends them: personal and channel messages, card actions, installs, ratings."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

TENANT = "tenant-northwind"
BOT = {"id": "28:coach-bot", "name": "Coach"}
CHANNEL = "19:general@thread.tacv2"
_ids = itertools.count(1_700_000_000_001)


def user(name: str) -> dict:
    return {"id": f"29:{name}", "name": f"{name.title()} Jones", "aadObjectId": f"aad-{name}"}


def _activity(kind: str, service_url: str, who: dict, conversation: dict, **fields) -> dict:
    return {"type": kind, "id": str(next(_ids)), "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": service_url, "channelId": "msteams", "from": who, "recipient": BOT,
            "conversation": {"tenantId": TENANT, **conversation}, "channelData": {"tenant": {"id": TENANT}}} | fields


def personal_message(service_url: str, text: str, who: str = "sam", **fields) -> dict:
    return _activity("message", service_url, user(who), {"id": f"a:personal-{who}", "conversationType": "personal"},
                     text=text, **fields)


def channel_message(service_url: str, text: str, who: str = "sam", thread: str = "1700000000000") -> dict:
    """`text` with the coach @mentioned in front, as Teams delivers a channel mention."""
    activity = _activity("message", service_url, user(who), {
        "id": f"{CHANNEL};messageid={thread}", "conversationType": "channel", "isGroup": True},
        text=f"<at>Coach</at> {text}",
        entities=[{"type": "mention", "text": "<at>Coach</at>", "mentioned": BOT}])
    activity["channelData"] |= {"channel": {"id": CHANNEL}, "team": {"id": "19:team-northwind"}}
    return activity


def card_action(service_url: str, verb: str, value: str, who: str = "sam", note: str = "",
                conversation: str | None = None, inputs: dict | None = None) -> dict:
    """An Action.Execute invoke; Teams merges the card's input values (`inputs`) into the action's data."""
    data = {"coach": verb, "value": value} | ({"note": note} if note else {}) | (inputs or {})
    return _activity("invoke", service_url, user(who), {
        "id": conversation or f"a:personal-{who}", "conversationType": "personal"},
        name="adaptiveCard/action", value={"action": {"type": "Action.Execute", "verb": verb, "data": data}})


def installed(service_url: str, who: str = "sam") -> dict:
    return _activity("conversationUpdate", service_url, user(who),
                     {"id": f"a:personal-{who}", "conversationType": "personal"}, membersAdded=[BOT])


def rating(service_url: str, reply_to: str, reaction: str = "like", text: str = "", who: str = "sam",
           conversation: dict | None = None, feedback: object = None) -> dict:
    """A click on Teams' own feedback buttons under a message, after its form: Microsoft's sample payload ("Enhance
    AI-generated bot messages"), `feedback` a JSON string holding the form's `feedbackText` unless given."""
    value = {"reaction": reaction, "feedback": json.dumps({"feedbackText": text}) if feedback is None else feedback}
    return _activity("invoke", service_url, user(who), conversation or {
        "id": f"a:personal-{who}", "conversationType": "personal"}, name="message/submitAction", replyToId=reply_to,
        value={"actionName": "feedback", "actionValue": value})
