"""Slack Connect: where another organisation can read along, the coach answers from `everyone` content only and sends
nothing restricted, not even privately; when Slack cannot say whether a channel is shared, it counts as shared.
Signals as Slack documents them: the envelope's `is_ext_shared_channel`, a sender's `user_team`, and
`conversations.info`'s `is_ext_shared` / `is_pending_ext_shared`."""

from __future__ import annotations

import json

import pytest

from coach.learners import update_profile
from tests.fakes.slack_api import TEAM
from tests.integration.slack_helpers import as_message_event, command_body, event_body, mention
from tests.integration.test_slack import GENERAL, Slack, api, blocks_text, slack  # noqa: F401

SECRET_FIGURE = "3.5 percent"  # in the managers-only salary review
QUESTION = "<@UCOACHBOT> What is the merit budget in the salary review?"


@pytest.fixture
def manager(slack) -> str:
    update_profile(slack.container.engine, f"slack:{TEAM}:UMGR", groups=["managers"])
    return "UMGR"


def nothing_restricted_was_sent(slack: Slack) -> None:
    assert slack.api.of("chat.postEphemeral") == []
    assert all(SECRET_FIGURE not in blocks_text(c) for c in slack.api.calls)


@pytest.mark.parametrize("flags", [{"is_ext_shared": True}, {"is_pending_ext_shared": True}])
def test_a_manager_in_a_channel_shared_with_another_organisation_gets_no_restricted_content(slack, manager, flags):
    slack.api.channels[GENERAL] = flags
    slack.event(mention(slack.api.post_user_message(GENERAL, manager, QUESTION)))
    [answer] = slack.wait_answers()
    nothing_restricted_was_sent(slack)
    [info] = slack.api.of("conversations.info")
    assert info.args["channel"] == GENERAL
    # the same manager in a channel of their own organisation is told privately, as before
    slack.event(mention(slack.api.post_user_message("C0OWN", manager, QUESTION)))
    slack.wait_answers(2)
    slack.api.wait_for(lambda calls: any(c.method == "chat.postEphemeral" for c in calls))
    assert SECRET_FIGURE in blocks_text(slack.api.of("chat.postEphemeral")[0])


def test_the_event_envelope_saying_the_channel_is_shared_is_enough(slack, manager):
    body = json.loads(event_body(mention(slack.api.post_user_message(GENERAL, manager, QUESTION))))
    slack.send(json.dumps(body | {"is_ext_shared_channel": True}))
    slack.wait_answers()
    nothing_restricted_was_sent(slack)


def test_a_message_from_someone_of_another_organisation_gets_everyone_content_only(slack):
    update_profile(slack.container.engine, f"slack:{TEAM}:UGUEST", groups=["managers"])  # even if tagged so here
    question = slack.api.post_user_message("D0GUEST", "UGUEST", "What is the merit budget in the salary review?")
    slack.event(as_message_event(question, "im") | {"user_team": "T0PARTNER", "source_team": "T0PARTNER"})
    slack.wait_answers()
    nothing_restricted_was_sent(slack)
    assert slack.api.of("conversations.info") == []  # a DM holds the learner and the coach: the sender decides


def test_when_slack_cannot_say_the_channel_counts_as_shared(slack, manager):
    slack.api.errors["conversations.info"] = "missing_scope"
    slack.event(mention(slack.api.post_user_message(GENERAL, manager, QUESTION)))
    slack.wait_answers()
    nothing_restricted_was_sent(slack)
    del slack.api.errors["conversations.info"]  # not remembered: once Slack answers, the channel is known again
    slack.event(mention(slack.api.post_user_message(GENERAL, manager, QUESTION)))
    slack.wait_answers(2)
    slack.api.wait_for(lambda calls: any(c.method == "chat.postEphemeral" for c in calls))


def test_the_slash_command_in_a_shared_channel_answers_from_everyone_content(slack, manager):
    slack.api.channels[GENERAL] = {"is_ext_shared": True}
    response_url = slack.api.url + "/response/shared"
    slack.send(command_body("ask What is the merit budget in the salary review?", user=manager,
                            response_url=response_url), content_type="application/x-www-form-urlencoded")
    [reply] = slack.api.wait_for(lambda calls: any(c.method == "response_url" for c in calls)) and \
        slack.api.of("response_url")
    slack.settled()  # the command's lazy listener has ended: nothing more will be sent for it
    assert SECRET_FIGURE not in blocks_text(reply)  # ephemeral, yet on a screen the other organisation shares
    nothing_restricted_was_sent(slack)
