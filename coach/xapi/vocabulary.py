"""The verbs and activity types the coach's statements use: ADL's xAPI vocabulary wherever it has one, else the
xAPI registry's (registry.tincanapi.com), so an LRS's reports recognise them."""

ADL = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITY = "http://adlnet.gov/expapi/activities/"

VERBS: dict[str, tuple[str, str]] = {  # short name -> (IRI, display in en-US)
    "asked": (ADL + "asked", "asked"),
    "rated": ("http://id.tincanapi.com/verb/rated", "rated"),
    "experienced": (ADL + "experienced", "experienced"),
    "launched": (ADL + "launched", "launched"),
    "completed": (ADL + "completed", "completed"),
    "answered": (ADL + "answered", "answered"),
    "received": ("http://activitystrea.ms/schema/1.0/receive", "received"),
    "interacted": (ADL + "interacted", "interacted"),
    "voided": (ADL + "voided", "voided"),
}

QUESTION = ADL_ACTIVITY + "question"
LESSON = ADL_ACTIVITY + "lesson"
INTERACTION = ADL_ACTIVITY + "cmi.interaction"
OBJECTIVE = ADL_ACTIVITY + "objective"  # a competency of the framework
DOCUMENT = "http://id.tincanapi.com/activitytype/document"  # a source of the learning content
MESSAGE = "http://id.tincanapi.com/activitytype/message"  # a nudge, a reminder, a review digest
COACH = "http://id.tincanapi.com/activitytype/chat-channel"  # the coach itself, the parent of what it does
REVIEW = "categories/spaced-review"  # under the activity base: the category of a spaced review's answer

PLATFORMS = {"slack": ("https://slack.com", "Slack"), "teams": ("https://teams.microsoft.com", "Microsoft Teams"),
             "web": ("", "web chat"), "cli": ("", "command line")}


def platform_of(learner_id: str) -> str:
    """slack:T..:U.. / teams:<tenant>:<user> / web-<hex> (the web chat's visitors) / cli..."""
    prefix = learner_id.split(":", 1)[0]
    return prefix if prefix in PLATFORMS else "web" if learner_id.startswith("web-") else prefix
