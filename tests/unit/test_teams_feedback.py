"""What a click on Teams' feedback buttons carries (the `message/submitAction` invoke's value), read back into the
core's rating: Microsoft's sample payload, the shapes its SDKs also type it as, and values Teams does not send."""

from __future__ import annotations

import pytest

from connectors.teams.feedback import rating


def value(reaction: object = "like", feedback: object = '{"feedbackText":"This is my feedback."}') -> dict:
    return {"actionName": "feedback", "actionValue": {"reaction": reaction, "feedback": feedback}}


def test_a_rating_as_teams_sends_it():
    assert rating(value()) == (True, "This is my feedback.")
    assert rating(value("dislike", '{"feedbackText":"  Nothing about phones  "}')) == (False, "Nothing about phones")
    assert rating(value("like", '{"feedbackText":""}')) == (True, "")


@pytest.mark.parametrize("feedback, note", [
    ({"feedbackText": "as an object"}, "as an object"),  # how teams.ts and the Agents SDK also type it
    ("plain words, not JSON", "plain words, not JSON"),
    ("42", "42"), ('"quoted"', '"quoted"'),  # JSON, but not the form's object: kept as written
    ('{"other": "field"}', ""), ({"feedbackText": 5}, ""), (None, ""), (7, ""),
])
def test_the_written_feedback_in_any_shape_the_sdks_allow(feedback, note):
    assert rating(value("dislike", feedback)) == (False, note)


@pytest.mark.parametrize("bad", [None, "feedback", [1], {}, {"actionName": "other", "actionValue": {}},
                                 {"actionName": "feedback"}, {"actionName": "feedback", "actionValue": "like"},
                                 value("meh"), value(None), value(["like"])])
def test_a_value_teams_does_not_send_is_no_rating(bad):
    assert rating(bad) is None
