"""Managers schedule nudges from Slack: `/coach nudge` opens the modal, its submission is checked field by field
(Slack shows each error next to its field) and saved as the manager's own schedule; `/coach nudges` lists them
with Edit, Pause/Resume and Delete. Everyone else gets a clear refusal and nothing changes."""

from __future__ import annotations

import pytest

from coach.learners import update_profile
from coach.nudges import schedules
from connectors.slack.nudge_modal import NUDGE_VIEW
from tests.fakes.slack_api import TEAM, SlackAPI
from tests.integration.lesson_files import load_test_lessons
from tests.integration.slack_helpers import button_click, command_body, interaction_body, view_submission
from tests.integration.test_slack import Slack, start

FORM = "application/x-www-form-urlencoded"
MANAGER = f"slack:{TEAM}:U1"


@pytest.fixture
def slack(tmp_path, embedder):
    api = SlackAPI()
    http, container = start(tmp_path, embedder, api, content=False)
    load_test_lessons(container, tmp_path)
    update_profile(container.engine, MANAGER, role="manager", team="Support", timezone="Europe/Lisbon")
    for user in ("U2", "U3"):
        update_profile(container.engine, f"slack:{TEAM}:{user}", team="Support")
    update_profile(container.engine, f"slack:{TEAM}:U7", team="Sales")
    update_profile(container.engine, f"slack:{TEAM}:U9", role="manager", team="Sales")
    with http:
        yield Slack(api, http, container)
    api.close()


def command(slack: Slack, text: str, user: str, n: int) -> None:
    url = f"{slack.api.url}/response/{n}"
    assert slack.send(command_body(text, user=user, response_url=url), content_type=FORM).status_code == 200


def responses(slack: Slack, n: int) -> list:
    return slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= n) and \
        slack.api.of("response_url")


def submit(slack: Slack, values: dict, user: str = "U1", edit: str = ""):
    return slack.send(interaction_body(view_submission(NUDGE_VIEW, f'{{"edit": "{edit}"}}', values, user=user)),
                      content_type=FORM)


def values(**fields) -> dict:
    """The modal's state as Slack submits it: block id -> action id -> the element's value."""
    chosen = {"target": "team", "repeat": "weekly", "zone": "team"} | {k: v for k, v in fields.items()
                                                                     if k in ("target", "repeat", "zone", "lesson")}
    out = {block: {block: {"selected_option": {"value": value}}} for block, value in chosen.items()}
    out["message"] = {"message": {"value": fields.get("message")}}
    out["people"] = {"people": {"selected_users": fields.get("people", [])}}
    out["channel"] = {"channel": {"selected_conversation": fields.get("channel")}}
    out["date"] = {"date": {"selected_date": fields.get("date")}}
    out["time"] = {"time": {"selected_time": fields.get("time", "09:00")}}
    out["days"] = {"days": {"selected_options": [{"value": d} for d in fields.get("days", [])]}}
    out["cron"] = {"cron": {"value": fields.get("cron")}}
    return out


def test_a_manager_schedules_a_nudge_from_the_modal_and_mistakes_are_shown_by_their_fields(slack):
    command(slack, "nudge", "U1", 1)
    [opened] = slack.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls)) and \
        slack.api.of("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == NUDGE_VIEW and view["title"]["text"] == "Schedule a nudge"
    lesson_block = next(b for b in view["blocks"] if b["block_id"] == "lesson")
    assert {"text": {"type": "plain_text", "text": "Report phishing fast"}, "value": "report-phishing"} in \
        lesson_block["element"]["options"]
    assert "Europe/Lisbon" in str(next(b for b in view["blocks"] if b["block_id"] == "zone"))

    refused = submit(slack, values(repeat="weekly"))  # no message or lesson, no days
    assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
    assert set(refused.json()["errors"]) == {"message", "days"}
    outsider = submit(slack, values(message="Hi", target="people", people=["U2", "U7"], repeat="daily"))
    assert "not in Support" in outsider.json()["errors"]["people"]
    past = submit(slack, values(message="Hi", repeat="once", date="2020-01-06"))
    assert past.json()["errors"] == {"date": "That moment has passed."}
    assert schedules.of_owner(slack.container.engine) == []

    saved = submit(slack, values(message="Try the new refund flow", lesson="report-phishing", days=["mon", "thu"],
                                 zone="learner"))
    assert saved.status_code == 200 and not saved.content  # the modal closes
    [schedule] = schedules.of_owner(slack.container.engine, MANAGER)
    assert (schedule.team, schedule.message, schedule.lesson_key, schedule.zone_mode, schedule.timezone) == \
        ("Support", "Try the new refund flow", "report-phishing", "learner", "Europe/Lisbon")
    assert schedule.recurrence == {"kind": "weekly", "days": ["mon", "thu"], "time": "09:00"}
    [confirmation] = slack.api.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls)) and \
        slack.api.of("chat.postMessage")
    assert confirmation.args["channel"] == "U1" and confirmation.args["text"].startswith("Scheduled: Try the new")

    channel = submit(slack, values(message="Tip", target="channel", channel="C0SUPPORT", repeat="once",
                                   date="2030-01-07"))
    assert channel.status_code == 200 and not channel.content
    posted = next(s for s in schedules.of_owner(slack.container.engine, MANAGER) if s.channel)
    assert posted.channel == f"slack:{TEAM}:C0SUPPORT" and posted.recurrence == {"kind": "once",
                                                                                 "at": "2030-01-07T09:00"}


def test_managers_list_pause_edit_and_delete_their_own_nudges_and_nobody_else_can(slack):
    engine = slack.container.engine
    schedule = schedules.create(engine, owner=MANAGER, team="Support", message="Weekly tip",
                                recurrence={"kind": "weekdays", "time": "10:00"}, timezone="Europe/Lisbon")
    command(slack, "nudges", "U1", 1)
    [listing] = responses(slack, 1)
    buttons = {e["action_id"]: e["value"] for b in listing.args["blocks"] for e in b.get("elements", [])}
    assert buttons == {"nudge:edit": schedule.id, "nudge:pause": schedule.id, "nudge:delete": schedule.id}

    def click(kind: str, user: str = "U1", n: int = 2):
        slack.send(interaction_body(button_click(f"nudge:{kind}", schedule.id, user=user,
                                                 response_url=f"{slack.api.url}/response/{n}")), content_type=FORM)

    click("pause")
    listing = responses(slack, 2)[-1]
    assert schedules.get(engine, schedule.id).paused and "paused" in str(listing.args["blocks"])
    assert any(e["action_id"] == "nudge:resume" for b in listing.args["blocks"] for e in b.get("elements", []))

    click("edit", n=3)
    [opened] = slack.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls)) and \
        slack.api.of("views.open")
    message_block = next(b for b in opened.args["view"]["blocks"] if b["block_id"] == "message")
    assert message_block["element"]["initial_value"] == "Weekly tip"
    assert submit(slack, values(message="Weekly tip, now on Fridays", days=["fri"]), edit=schedule.id).status_code == 200
    edited = schedules.get(engine, schedule.id)
    assert edited.message == "Weekly tip, now on Fridays" and edited.recurrence["days"] == ["fri"]

    click("delete", user="U9", n=4)  # another team's manager
    assert "someone else" in str(responses(slack, 3)[-1].args)
    assert submit(slack, values(message="mine now"), user="U9", edit=schedule.id).json()["response_action"] == "errors"
    command(slack, "nudge", "U2", 5)  # not a manager
    assert "Only a team's manager" in str(responses(slack, 4)[-1].args)
    assert len(slack.api.of("views.open")) == 1
    click("delete", n=6)
    responses(slack, 5)
    assert schedules.of_owner(engine) == []
