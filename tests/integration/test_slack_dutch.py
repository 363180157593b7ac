"""The Slack connector's own words (the chrome around a reply) in the learner's language, through the real
/slack/events endpoint and the mock Slack Web API: a learner whose profile says Dutch gets the status line and the
answer's "Sources" heading in Dutch, an English one in English."""

from __future__ import annotations

import gettext
import json

import pytest

from coach import i18n
from coach.i18n import _, speaking
from coach.learners import update_profile
from connectors.slack.delivery import STATUS
from tests.fakes.slack_api import TEAM
from tests.integration.slack_helpers import as_message_event
from tests.integration.test_slack import Slack, api, slack  # noqa: F401


@pytest.fixture
def marked_dutch(monkeypatch):
    """The Dutch catalog with every text marked, so Dutch chrome is told from English whether or not the
    translators have been yet."""
    real = i18n._catalog

    class Marked(gettext.NullTranslations):
        def gettext(self, message):
            return "NL:" + real("nl").gettext(message)

        def ngettext(self, singular, plural, n):
            return "NL:" + real("nl").ngettext(singular, plural, n)

    monkeypatch.setattr(i18n, "_catalog", lambda language: Marked() if language == "nl" else real(language))


def section_texts(call) -> list[str]:
    shown = call.message or call.args  # a stream: the message as Slack shows it (streamed text, blocks under it)
    return [b["text"]["text"] for b in shown.get("blocks", []) if b["type"] == "section"]


def status_of(slack: Slack, channel: str) -> str:
    [status] = [c for c in slack.api.of("assistant.threads.setStatus") if c.args["channel_id"] == channel]
    return status.args["status"]


def test_a_replys_chrome_is_in_the_learners_language(slack, marked_dutch):
    with speaking("nl"):
        dutch_sources, dutch_status = _("*Sources*"), _(STATUS)
    update_profile(slack.container.engine, f"slack:{TEAM}:UNL", language="nl")
    slack.event(as_message_event(slack.api.post_user_message("D0NL", "UNL", "phishing e-mail?"), "im"))
    [dutch] = slack.wait_answers()
    assert any(text.startswith(dutch_sources + "\n") for text in section_texts(dutch)), json.dumps(dutch.message)
    assert status_of(slack, "D0NL") == dutch_status  # said before the reply exists: the learner's language

    slack.event(as_message_event(slack.api.post_user_message("D0EN", "UEN", "How do I report phishing?"), "im"))
    english = slack.wait_answers(2)[-1]
    assert any(text.startswith("*Sources*\n") for text in section_texts(english))
    assert status_of(slack, "D0EN") == STATUS
