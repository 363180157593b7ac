"""Slack's agent messaging experience through the real /slack/events endpoint, with event payloads as Slack documents
them (docs.slack.dev reference pages for `app_home_opened`, `app_context_changed`, `assistant_thread_started`,
2026-07): the Messages tab greets and pins prompts, what the learner looks at turns the prompts, the Home tab is the
learner's own page and its buttons work, and installs still on the assistant pane keep being served."""

from __future__ import annotations

import json
import time

from coach.needs import needs_of
from connectors.slack.agent import WELCOME
from tests.fakes.slack_api import TEAM
from tests.integration.lesson_files import load_test_lessons
from tests.integration.slack_helpers import as_message_event, button_click, interaction_body
from tests.integration.test_slack import Slack, api, blocks_text, slack, start  # noqa: F401

FORM = "application/x-www-form-urlencoded"


def home_opened(user: str, tab: str, channel: str = "D0DM") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab,
            "event_ts": f"{time.time():.6f}"}


def home_click(action: dict, *, user: str, response_url: str) -> dict:
    """A button on the Home tab: the container is the view, there is no message and no channel."""
    click = button_click(action["action_id"], action.get("value", ""), user=user, response_url=response_url)
    del click["channel"]
    return click | {"container": {"type": "view", "view_id": "VHOME"},
                    "view": {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}}}


def home_buttons(view: dict) -> dict[str, dict]:
    """Label -> button, on a published Home tab."""
    found = [b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("type") == "button"]
    found += [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return {b["text"]["text"]: b for b in found}


def test_opening_the_messages_tab_greets_a_new_learner_once_and_pins_prompts_for_the_dm(slack):
    assert slack.event(home_opened("U1", "messages")).status_code == 200
    [prompts] = slack.api.wait_for(lambda calls: any(c.method == "assistant.threads.setSuggestedPrompts"
                                                     for c in calls)) and \
        slack.api.of("assistant.threads.setSuggestedPrompts")
    assert prompts.args["channel_id"] == "D0DM" and "thread_ts" not in prompts.args  # an agent app's prompts
    titles = [p["title"] for p in prompts.args["prompts"]]
    assert 1 <= len(titles) <= 4 and "What should I learn next?" in titles
    assert not any("Salary" in t for t in titles)  # restricted content is never advertised
    [welcome] = [c for c in slack.api.of("chat.postMessage") if c.args.get("text") == WELCOME]
    assert welcome.args["channel"] == "D0DM" and not welcome.args.get("thread_ts")

    slack.event(home_opened("U1", "messages"))  # opened again: prompts again, no second welcome
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "assistant.threads.setSuggestedPrompts"])
                       >= 2)
    assert len([c for c in slack.api.of("chat.postMessage") if c.args.get("text") == WELCOME]) == 1


def test_the_prompts_follow_the_channel_the_learner_looks_at(slack):
    [phishing] = [s for s in slack.container.knowledge.sources() if s.title == "How to report phishing"]
    slack.container.knowledge.retag(phishing.id, competencies=["information-security"])
    slack.api.channels["C0SEC"] = {"name": "security", "topic": {"value": "phishing and passwords"},
                                   "purpose": {"value": ""}}
    looking = {"type": "app_context_changed", "user": "U1", "channel": "D0DM", "event_ts": f"{time.time():.6f}",
               "context": {"entities": [{"type": "slack#/types/channel_id", "value": "C0SEC", "team_id": TEAM}]}}
    assert slack.event(looking).status_code == 200
    [pinned] = slack.api.wait_for(lambda calls: any(c.method == "assistant.threads.setSuggestedPrompts"
                                                    for c in calls)) and \
        slack.api.of("assistant.threads.setSuggestedPrompts")
    assert pinned.args["prompts"][0]["title"] == "About How to report phishing"
    assert [p["title"] for p in pinned.args["prompts"]].count("About Training budget") == 0
    assert pinned.args["channel_id"] == "D0DM" and "thread_ts" not in pinned.args

    slack.event(looking, event_id="EvAGAIN")  # the same channel again: the same prompts are not sent twice
    # as the reference page shows it: no user, no channel, an empty context; answered and left
    assert slack.event({"type": "app_context_changed", "context": {}}, event_id="EvEMPTY").status_code == 200
    slack.settled()
    assert {"EvAGAIN", "EvEMPTY"} <= set(slack.work.finished)
    assert len(slack.api.of("assistant.threads.setSuggestedPrompts")) == 1


def test_the_home_tab_is_the_learners_own_page_and_its_buttons_work(slack, tmp_path):
    load_test_lessons(slack.container, tmp_path)
    slack.event(as_message_event(slack.api.post_user_message("D0DM", "U2", "How do I report phishing?"), "im"))
    slack.wait_answers()
    slack.event(home_opened("U2", "home"))
    slack.api.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
    page = slack.api.home["U2"]
    assert page["type"] == "home"
    text = json.dumps(page)
    assert "How do I report phishing?" in text and "answered" in text
    assert "Report phishing fast" in text  # suggested from what they asked, with its reason
    buttons = home_buttons(page)
    response_url = slack.api.url + "/response/home"

    slack.send(interaction_body(home_click(buttons["Pause nudges"], user="U2", response_url=response_url)),
               content_type=FORM)
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "views.publish"]) >= 2)
    assert slack.container.coach.export(f"slack:{TEAM}:U2")["profile"]["paused"] is True
    assert "Resume nudges" in home_buttons(slack.api.home["U2"])

    [start_lesson] = [b for label, b in buttons.items() if label == "Start"]
    slack.send(interaction_body(home_click(start_lesson, user="U2", response_url=response_url)), content_type=FORM)
    [lesson] = slack.api.wait_for(lambda calls: any(c.method == "chat.postMessage" and c.args["channel"] == "U2"
                                                    for c in calls)) and \
        [c for c in slack.api.of("chat.postMessage") if c.args["channel"] == "U2"]
    assert "Report phishing fast" in blocks_text(lesson) and "Quick check" in blocks_text(lesson)  # in their DM
    assert slack.api.of("response_url") == []  # a view has no message to answer under

    forget = home_buttons(slack.api.home["U2"])["Forget me"]
    assert forget["confirm"]["confirm"]["text"] == "Yes, forget me"  # Slack asks before it sends the click
    slack.send(interaction_body(home_click(forget, user="U2", response_url=response_url)), content_type=FORM)
    slack.api.wait_for(lambda calls: "Nothing yet." in json.dumps(slack.api.home.get("U2")))
    assert needs_of(slack.container.engine, f"slack:{TEAM}:U2") == []


def test_installs_on_the_assistant_pane_are_still_greeted_and_answered_in_their_thread(slack):
    started = {"type": "assistant_thread_started", "event_ts": f"{time.time():.6f}", "assistant_thread": {
        "user_id": "U3", "channel_id": "D0PANE", "thread_ts": "1729999327.187299",
        "context": {"channel_id": "C0GENERAL", "team_id": TEAM, "enterprise_id": None}}}
    assert slack.event(started).status_code == 200
    [prompts] = slack.api.wait_for(lambda calls: any(c.method == "assistant.threads.setSuggestedPrompts"
                                                     for c in calls)) and \
        slack.api.of("assistant.threads.setSuggestedPrompts")
    assert (prompts.args["channel_id"], prompts.args["thread_ts"]) == ("D0PANE", "1729999327.187299")
    [welcome] = [c for c in slack.api.of("chat.postMessage") if c.args.get("text") == WELCOME]
    assert welcome.args["thread_ts"] == "1729999327.187299"
    changed = {"type": "assistant_thread_context_changed", "event_ts": f"{time.time():.6f}",
               "assistant_thread": started["assistant_thread"] | {"context": {"channel_id": "C0OTHER"}}}
    assert slack.event(changed).status_code == 200

    question = slack.api.post_user_message("D0PANE", "U3", "How do I report phishing?", thread_ts="1729999327.187299")
    slack.event(as_message_event(question, "im"))
    [answer] = slack.wait_answers()
    [stream] = slack.starts()
    assert (stream.args["channel"], stream.args["thread_ts"]) == ("D0PANE", "1729999327.187299")
    assert "How to report phishing" in blocks_text(answer)


def test_a_follow_up_in_a_dm_thread_keeps_that_threads_context_only(slack):
    first = slack.api.post_user_message("D0DM", "U4", "How do I report a phishing e-mail?")
    slack.event(as_message_event(first, "im"))
    slack.wait_answers()
    follow_up = slack.api.post_user_message("D0DM", "U4", "and how fast?", thread_ts=first["ts"])
    slack.event(as_message_event(follow_up, "im"))
    answers = slack.wait_answers(2)
    assert slack.starts()[1].args["thread_ts"] == first["ts"]
    assert "hour" in blocks_text(answers[1]).lower()
    # a new thread root starts afresh: "and how fast?" alone has nothing to follow
    alone = slack.api.post_user_message("D0DM", "U4", "and how fast?")
    slack.event(as_message_event(alone, "im"))
    answers = slack.wait_answers(3)
    assert slack.starts()[2].args["thread_ts"] == alone["ts"]
    assert "security@example.com" not in blocks_text(answers[2])
