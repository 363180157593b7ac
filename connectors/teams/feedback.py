"""Teams' own feedback buttons (👍 / 👎 in an answer's footer, then Teams' form asking what was good or missing).

Switched on per message by `channelData.feedbackLoop` (`{"type": "default"}`: Teams' own form), as Microsoft's "Enhance
AI-generated bot messages" page says for Bot Framework SDK bots; `feedbackLoopEnabled: true` is the older flag of the
Teams AI library, and Teams refuses a message that sets both. A click arrives as a `message/submitAction` invoke whose
value is `{"actionName": "feedback", "actionValue": {"reaction": "like" | "dislike", "feedback": "<JSON string:
{\\"feedbackText\\": ...}>"}}` and whose replyToId is the rated message; it is answered 200 with an empty object.
"""

from __future__ import annotations

import json

SUBMIT_ACTION = "message/submitAction"


def channel_data() -> dict:
    """What an answer's message carries for Teams to show its feedback buttons under it."""
    return {"feedbackLoop": {"type": "default"}}


def rating(value: object) -> tuple[bool, str] | None:
    """(helpful, what the learner wrote) from the invoke's value; None when it is not a rating Teams sends."""
    if not isinstance(value, dict) or value.get("actionName") != "feedback":
        return None
    action = value.get("actionValue")
    if not isinstance(action, dict) or action.get("reaction") not in ("like", "dislike"):
        return None
    return action["reaction"] == "like", written(action.get("feedback"))


def written(feedback: object) -> str:
    """Teams sends the form as a JSON string; Microsoft's SDKs also type it as an object. Plain text is kept."""
    if isinstance(feedback, str):
        try:
            parsed = json.loads(feedback)
        except ValueError:
            return feedback.strip()
        if not isinstance(parsed, dict):
            return feedback.strip()
        feedback = parsed
    text = feedback.get("feedbackText") if isinstance(feedback, dict) else None
    return text.strip() if isinstance(text, str) else ""
