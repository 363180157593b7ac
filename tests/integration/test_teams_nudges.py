"""Managers schedule nudges in Teams: "nudge" in the personal chat shows the nudge card; Save (an Action.Execute
invoke with the card's inputs) shows the card again with each problem under its field, or saves the schedule and
replaces the card with the manager's list (Edit, Pause/Resume, Delete). Others are refused and nothing changes."""

from __future__ import annotations

import json

from coach.learners import update_profile
from coach.nudges import schedules
from tests.integration.lesson_files import load_test_lessons
from tests.integration.teams_helpers import card_action, personal_message
from tests.integration.test_teams import cards, learner, teams, connector  # noqa: F401 (fixtures)

GOOD = {"message": "Try the new refund flow", "lesson_key": "report-phishing", "target": "people",
        "people": f"{learner('ana')},{learner('bo')}", "repeat": "weekly", "time": "09:30", "days": "mon,thu",
        "each_learners_zone": "true", "date": "", "cron": ""}


def save(http, connector, inputs: dict, value: str = "", who: str = "sam") -> dict:
    response = http.post("/api/messages", json=card_action(connector.base_url, "nudge_save", value, who=who,
                                                           inputs=inputs))
    assert response.status_code == 200
    return response.json()


def test_a_manager_schedules_edits_and_deletes_a_nudge_from_the_card(teams, connector, tmp_path):
    http, container = teams
    engine = container.engine
    load_test_lessons(container, tmp_path)
    update_profile(engine, learner(), role="manager", team="Support", timezone="Europe/Lisbon")
    update_profile(engine, learner("ana"), team="Support", display_name="Ana Lima")
    update_profile(engine, learner("bo"), team="Support")
    update_profile(engine, learner("cy"), team="Sales")

    assert http.post("/api/messages", json=personal_message(connector.base_url, "nudge")).status_code == 202
    [form] = cards(connector.of("message")[-1])
    inputs = {element["id"]: element for element in form["body"] if element.get("id")}
    assert {"message", "lesson_key", "target", "people", "repeat", "date", "time", "days", "cron",
            "each_learners_zone"} <= set(inputs)
    assert {"title": "Ana Lima", "value": learner("ana")} in inputs["people"]["choices"]
    assert {"title": "Report phishing fast", "value": "report-phishing"} in inputs["lesson_key"]["choices"]

    refused = save(http, connector, GOOD | {"message": "", "lesson_key": "", "people": learner("cy")})
    assert refused["type"] == "application/vnd.microsoft.card.adaptive"  # the form again, with the problems
    problems = [b["text"] for b in refused["value"]["body"] if b.get("color") == "Attention"]
    assert problems == ["Write a message, pick a lesson, or both.", "1 of them not in Support: you can nudge your "
                        "own team only."]
    assert schedules.of_owner(engine) == []

    saved = save(http, connector, GOOD)
    [schedule] = schedules.of_owner(engine, learner())
    assert (schedule.learners, schedule.zone_mode, schedule.timezone, schedule.recurrence) == (
        [learner("ana"), learner("bo")], "learner", "Europe/Lisbon",
        {"kind": "weekly", "days": ["mon", "thu"], "time": "09:30"})
    assert "Saved: Try the new refund flow" in json.dumps(saved["value"])
    verbs = [a["verb"] for c in saved["value"]["body"] if c["type"] == "Container" for s in c["items"]
             if s["type"] == "ActionSet" for a in s["actions"]]
    assert verbs == ["nudge_edit", "nudge_pause", "nudge_delete"]

    edit = http.post("/api/messages", json=card_action(connector.base_url, "nudge_edit", schedule.id)).json()
    message = next(b for b in edit["value"]["body"] if b.get("id") == "message")
    assert message["value"] == "Try the new refund flow"
    save(http, connector, GOOD | {"message": "Refunds: the new flow", "repeat": "weekdays"}, value=schedule.id)
    changed = schedules.get(engine, schedule.id)
    assert changed.message == "Refunds: the new flow" and changed.recurrence == {"kind": "weekdays", "time": "09:30"}

    other = http.post("/api/messages", json=card_action(connector.base_url, "nudge_delete", schedule.id, who="cy"))
    assert "Only a team's manager" in other.json()["value"]  # cy is no manager
    update_profile(engine, learner("cy"), role="manager")
    other = http.post("/api/messages", json=card_action(connector.base_url, "nudge_delete", schedule.id, who="cy"))
    assert "someone else" in other.json()["value"]
    paused = http.post("/api/messages", json=card_action(connector.base_url, "nudge_pause", schedule.id)).json()
    assert schedules.get(engine, schedule.id).paused and "nudge_resume" in json.dumps(paused["value"])
    http.post("/api/messages", json=card_action(connector.base_url, "nudge_delete", schedule.id))
    assert schedules.of_owner(engine) == []

    http.post("/api/messages", json=personal_message(connector.base_url, "nudge", who="bo"))
    assert "Only a team's manager" in connector.of("message")[-1].activity["text"]
