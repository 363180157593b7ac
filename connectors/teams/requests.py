"""What reaches /api/messages is checked before botbuilder sees it, so that bad input gets a clear 4xx, never a 500.

botbuilder deserializes with msrest, which turns most wrong types into strings, and then trusts the shape: a JSON
`null`, an activity without `from` or `recipient`, a `channelData` or `tenant` that is not an object, an entity
without a type, a mention whose text is not a string, or a serviceUrl that is no web address each fail inside the
turn, or before it. Checked here is what the adapter and the bot read without looking at its type.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from botbuilder.schema import Activity

_OBJECTS = ("conversation", "from", "recipient", "channelData")
_IN_CHANNEL_DATA = ("tenant", "channel", "team")  # objects whose string ids name the learner's tenant, the channel


def parse(body: bytes) -> tuple[Activity | None, str]:
    """The activity, or None and what is wrong with the body (for a 400)."""
    try:
        payload = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return None, "the body is not JSON"
    if not isinstance(payload, dict):
        return None, "the body is not a JSON object"
    wrong = [name for name in _OBJECTS if name in payload and not isinstance(payload[name], dict)]
    channel_data = payload.get("channelData")
    if isinstance(channel_data, dict):
        for name in _IN_CHANNEL_DATA:
            part = channel_data.get(name)
            if part is not None and not isinstance(part, dict):
                wrong.append(f"channelData.{name}")
            elif part and not isinstance(part.get("id", ""), str):
                wrong.append(f"channelData.{name}.id")
    entities = payload.get("entities")
    for n, entity in enumerate(entities if isinstance(entities, list) else []):
        if isinstance(entity, dict) and not isinstance(entity.get("type"), str):  # botbuilder lowercases it
            wrong.append(f"entities[{n}].type")
        elif isinstance(entity, dict) and entity["type"] == "mention":  # handed on as they came
            wrong += [f"entities[{n}].{name}" for name, kind in (("mentioned", dict), ("text", str))
                      if name in entity and not isinstance(entity[name], kind)]
    if wrong:
        return None, f"of the wrong type: {', '.join(wrong)}"
    try:
        activity = Activity().deserialize(payload)
    except ValueError:  # msrest's DeserializationError is one
        return None, "the body is not a Bot Framework activity"
    missing = [name for name, value in (
        ("type", activity.type), ("conversation.id", activity.conversation and activity.conversation.id),
        ("serviceUrl", activity.service_url), ("from.id", activity.from_property and activity.from_property.id),
        ("recipient.id", activity.recipient and activity.recipient.id)) if not value]
    if missing:
        return None, f"the activity has no {', '.join(missing)}"
    url = urlsplit(activity.service_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return None, "the activity's serviceUrl is not a web address"
    return activity, ""
