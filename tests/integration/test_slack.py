"""The coach in Slack, through the real /slack/events endpoint with correctly signed requests and a mock Slack Web
API that records every call: mentions, threads, DMs, /coach, buttons, modals, retries, forgeries, audiences."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from coach.bootstrap import bootstrap
from coach.learners import update_profile
from coach.needs import needs_of
from connectors.server import create_app
from connectors.slack.agent import WELCOME
from connectors.slack.delivery import FAILED, THINKING
from tests.conftest import make_settings, write_content
from tests.fakes.bolt_work import BoltWork, key_of_raw
from tests.fakes.slack_api import TEAM, SlackAPI
from tests.integration.slack_helpers import (SECRET, as_message_event, button_click, command_body, event_body,
                                             feedback_click, interaction_body, mention, signed_headers,
                                             view_submission)

GENERAL = "C0GENERAL"


@dataclass
class Slack:
    api: SlackAPI
    http: TestClient
    container: object

    @property
    def work(self) -> BoltWork:
        """What the app accepted and finished handling (tests/fakes/bolt_work.py)."""
        return BoltWork.of(self.http.app.state.slack)

    def send(self, body: str, *, content_type: str = "application/json", retry: int | None = None, **signing):
        headers = signed_headers(body, content_type=content_type, **signing)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = self.http.post("/slack/events", content=body, headers=headers)
        if response.status_code == 200:
            self.work.acknowledged(key_of_raw(body, content_type))
        return response

    def settled(self) -> None:
        """Until the app has handled everything it acknowledged so far, to the end: then nothing more can come of
        it, and a test may assert that something did not happen."""
        self.work.wait_idle()

    def event(self, event: dict, **kwargs):
        return self.send(event_body(event, event_id=kwargs.pop("event_id", None)), **kwargs)

    def finals(self) -> list:
        """The answers as they ended: a stopped stream (its call holds the streamed message), or a message posted or
        edited into the answer (not a placeholder, a partial text or a greeting)."""
        streamed = {(c.message["channel"], c.message["ts"]) for c in self.api.of("chat.stopStream")}
        return [c for c in self.api.of("chat.stopStream", "chat.update", "chat.postMessage")
                if c.method == "chat.stopStream" or (c.args.get("channel"), c.args.get("ts")) not in streamed
                and (c.args.get("text") == FAILED or any(b["type"] in ("actions", "context_actions")
                                                         for b in c.args.get("blocks", [])))]

    def starts(self) -> list:
        """Where each answer began: a stream opened, or a message posted (a placeholder, or the answer itself)."""
        return [c for c in self.api.of("chat.startStream", "chat.postMessage") if c.args.get("text") != WELCOME]

    def wait_answers(self, n: int = 1) -> list:
        self.api.wait_for(lambda calls: len(self.finals()) >= n)
        self.settled()  # every event sent so far handled: an answer doubled would be in by now
        return self.finals()


def start(tmp_path, embedder, api: SlackAPI, base_url: str = "http://testserver", content: bool = True,
          **settings) -> tuple[TestClient, object]:
    """The app server on the mock Slack API, with the test content ingested (`content=False`: it is there already)."""
    values = dict(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.base_url,
                  SLACK_UPDATE_INTERVAL_S=0.2) | settings
    container = bootstrap(make_settings(tmp_path, **values), embedder=embedder)
    if content:
        container.knowledge.ingest([write_content(tmp_path / "content")])
    app = create_app(container)
    BoltWork.install(app.state.slack)
    return TestClient(app, base_url=base_url), container


@pytest.fixture
def api():
    server = SlackAPI()
    yield server
    server.close()


@pytest.fixture
def slack(tmp_path, embedder, api):
    http, container = start(tmp_path, embedder, api)
    with http:
        yield Slack(api, http, container)


def elements(call) -> list[dict]:
    shown = call.message or call.args
    return [e for b in shown.get("blocks", []) for e in b.get("elements", [])]


def blocks_text(call) -> str:
    shown = call.message or call.args  # a stream: the message as Slack shows it (streamed text, blocks under it)
    return json.dumps(shown.get("blocks", [])) + shown.get("text", "")


def test_a_mention_is_answered_once_in_its_thread_despite_retries_and_twin_events(slack):
    question = slack.api.post_user_message(GENERAL, "U1", "<@UCOACHBOT> How do I report a phishing e-mail?")
    first = slack.event(mention(question), event_id="EvMENTION")
    assert first.status_code == 200
    assert slack.event(mention(question), event_id="EvMENTION", retry=1).status_code == 200
    assert slack.event(as_message_event(question, "channel"), event_id="EvTWIN").status_code == 200

    [answer] = slack.wait_answers()
    [stream] = slack.starts()  # Slack's own stream, in the question's thread, to the asker
    assert stream.method == "chat.startStream" and stream.token == "xoxb-test"
    assert (stream.args["channel"], stream.args["thread_ts"]) == (GENERAL, question["ts"])
    assert (stream.args["recipient_user_id"], stream.args["recipient_team_id"]) == ("U1", TEAM)
    assert "How to report phishing" in blocks_text(answer) and "security@example.com" in blocks_text(answer)
    assert answer.message["streaming_state"] == "completed"
    [rating] = [e for e in elements(answer) if e["type"] == "feedback_buttons"]
    assert rating["positive_button"]["value"].startswith("helpful:")
    [need] = needs_of(slack.container.engine, f"slack:{TEAM}:U1")
    assert need.platform == "slack" and need.channel == "channel" and need.answered


def test_a_follow_up_in_the_thread_needs_no_mention_and_keeps_the_context(slack):
    question = slack.api.post_user_message(GENERAL, "U1", "<@UCOACHBOT> How do I report a phishing e-mail?")
    slack.event(mention(question))
    slack.wait_answers()
    follow_up = slack.api.post_user_message(GENERAL, "U1", "and how fast?", thread_ts=question["ts"])
    slack.event(as_message_event(follow_up, "channel"))
    answers = slack.wait_answers(2)
    assert "hour" in blocks_text(answers[1]).lower()
    assert slack.starts()[1].args["thread_ts"] == question["ts"]
    # a thread the coach is not in is left alone
    other = slack.api.post_user_message(GENERAL, "U2", "lunch?")
    slack.event(as_message_event(slack.api.post_user_message(GENERAL, "U2", "phishing?", thread_ts=other["ts"]),
                                 "channel"), event_id="EvNOTOURS")
    slack.settled()
    assert "EvNOTOURS" in slack.work.finished and len(slack.starts()) == 2  # handled, and left alone


def test_a_direct_message_is_answered_in_the_dm_and_bots_are_ignored(slack):
    question = slack.api.post_user_message("D0DM", "U3", "How do I report phishing?")
    slack.event(as_message_event(question, "im"))
    [answer] = slack.wait_answers()
    [posted] = slack.starts()  # in the agent experience every DM message is a thread root: answered in its thread
    assert (posted.args["channel"], posted.args["thread_ts"]) == ("D0DM", question["ts"])
    [status] = slack.api.of("assistant.threads.setStatus")  # "is looking through the learning content…" meanwhile
    assert (status.args["channel_id"], status.args["thread_ts"]) == ("D0DM", question["ts"]) and status.at < answer.at
    assert "How to report phishing" in blocks_text(answer)
    profile = slack.container.coach.export(f"slack:{TEAM}:U3")["profile"]
    assert profile["timezone"] == "Europe/Amsterdam"  # from users.info, for nudges at the right hour

    bot = {**slack.api.post_user_message("D0DM", "U9", "How do I report phishing?"), "bot_id": "BOTHER"}
    slack.event(as_message_event(bot, "im"), event_id="EvBOT")
    edited = {**slack.api.post_user_message("D0DM", "U3", "x"), "subtype": "message_changed"}
    slack.event(as_message_event(edited, "im"), event_id="EvEDIT")
    slack.settled()
    assert {"EvBOT", "EvEDIT"} <= set(slack.work.finished) and len(slack.starts()) == 1


def test_forged_and_stale_requests_get_401_and_reach_nothing(slack):
    body = event_body(mention(slack.api.post_user_message(GENERAL, "U1", "<@UCOACHBOT> phishing?")))
    forged = slack.http.post("/slack/events", content=body, headers=signed_headers(
        body, secret="not-the-secret", content_type="application/json"))
    stale = slack.http.post("/slack/events", content=body, headers=signed_headers(
        body, timestamp=int(time.time()) - 6 * 60, content_type="application/json"))
    unsigned = slack.http.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    # refused before Bolt sees them and within the request: no listener was started, nothing is left to wait for
    assert not +slack.work.accepted and slack.work.finished == []
    assert slack.api.calls == []


def test_in_a_channel_restricted_content_only_reaches_its_audience_privately(slack):
    update_profile(slack.container.engine, f"slack:{TEAM}:UMGR", groups=["managers"])
    question = slack.api.post_user_message(GENERAL, "UMGR", "<@UCOACHBOT> What is the merit budget in the salary review?")
    slack.event(mention(question))
    [answer] = slack.wait_answers()
    slack.api.wait_for(lambda calls: any(c.method == "chat.postEphemeral" for c in calls))
    in_channel = [blocks_text(c) for c in slack.api.calls if c.method in ("chat.postMessage", "chat.update")]
    assert all("3.5 percent" not in text for text in in_channel)
    [private] = slack.api.of("chat.postEphemeral")
    assert private.args["user"] == "UMGR" and "3.5 percent" in blocks_text(private)

    employee = slack.api.post_user_message(GENERAL, "UEMP", "<@UCOACHBOT> What is the merit budget in the salary review?")
    slack.event(mention(employee))
    slack.wait_answers(2)
    assert len(slack.api.of("chat.postEphemeral")) == 1  # nothing private for someone outside the audience
    assert all("3.5 percent" not in blocks_text(c) for c in slack.api.calls if c.method != "chat.postEphemeral")


def test_the_slash_command_answers_privately(slack):
    response_url = slack.api.url + "/response/1"
    ack = slack.send(command_body("ask How do I report phishing?", user="U4", response_url=response_url),
                     content_type="application/x-www-form-urlencoded")
    assert ack.status_code == 200 and ack.json()["text"] == THINKING
    [answer] = slack.api.wait_for(lambda calls: any(c.method == "response_url" for c in calls)) and \
        slack.api.of("response_url")
    assert answer.args["response_type"] == "ephemeral" and "How to report phishing" in blocks_text(answer)

    slack.send(command_body("", user="U4", response_url=response_url), content_type="application/x-www-form-urlencoded")
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= 2)
    assert "forget me" in blocks_text(slack.api.of("response_url")[1])
    slack.send(command_body("pause", user="U4", response_url=response_url), content_type="application/x-www-form-urlencoded")
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= 3)
    assert slack.container.coach.export(f"slack:{TEAM}:U4")["profile"]["paused"] is True


def test_buttons_and_the_feedback_modal_reach_the_core(slack):
    question = slack.api.post_user_message("D0DM", "U5", "How do I report phishing?")
    slack.event(as_message_event(question, "im"))
    [answer] = slack.wait_answers()
    [rating] = [e for e in elements(answer) if e["type"] == "feedback_buttons"]  # Slack's own thumbs up / down
    helpful, not_helpful = rating["positive_button"]["value"], rating["negative_button"]["value"]
    response_url = slack.api.url + "/response/2"
    form = "application/x-www-form-urlencoded"

    assert slack.send(interaction_body(feedback_click(helpful, user="U5", response_url=response_url)),
                      content_type=form).status_code == 200
    slack.api.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
    assert [n.feedback for n in needs_of(slack.container.engine, f"slack:{TEAM}:U5")] == ["helpful"]

    slack.send(interaction_body(feedback_click(not_helpful, user="U5", response_url=response_url)), content_type=form)
    [opened] = slack.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls)) and \
        slack.api.of("views.open")
    view = opened.args["view"]
    values = {"note": {"note": {"type": "plain_text_input", "value": "Nothing about phones; I'm on +31 6 1234 5678"}}}
    submitted = slack.send(interaction_body(view_submission(view["callback_id"], view["private_metadata"], values,
                                                            user="U5")), content_type=form)
    assert submitted.status_code == 200
    slack.settled()  # the note is kept after Slack got its ack
    [need] = needs_of(slack.container.engine, f"slack:{TEAM}:U5")
    assert need.feedback == "not_helpful" and need.feedback_note == "Nothing about phones; I'm on <PHONE>"

    # someone else's click cannot rate this answer
    slack.send(interaction_body(feedback_click(helpful, user="U6", response_url=response_url)), content_type=form)
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= 2)
    assert "no longer on record" in blocks_text(slack.api.of("response_url")[-1])
    # answers posted before the feedback buttons carried Helpful / Not helpful buttons: their clicks still count
    slack.send(interaction_body(button_click("coach:helpful", helpful.partition(":")[2], user="U5",
                                             response_url=response_url)), content_type=form)
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= 3)
    assert [n.feedback for n in needs_of(slack.container.engine, f"slack:{TEAM}:U5")] == ["helpful"]


def test_slack_rate_limits_are_waited_out_and_failures_are_told(slack, monkeypatch):
    slack.api.failures["chat.startStream"] = [(429, {"Retry-After": "1"})]
    slack.event(as_message_event(slack.api.post_user_message("D0DM", "U7", "How do I report phishing?"), "im"))
    [answer] = slack.wait_answers()
    assert len(slack.api.of("chat.startStream")) == 2  # refused once, then sent after Retry-After
    assert "How to report phishing" in blocks_text(answer)

    def broken(*args, **kwargs):
        raise RuntimeError("the vector store went away")

    monkeypatch.setattr(slack.container.coach, "ask", broken)
    slack.event(as_message_event(slack.api.post_user_message("D0DM", "U7", "Expense claims?"), "im"))
    answers = slack.wait_answers(2)
    assert answers[1].message["text"] == FAILED


def test_an_event_redelivered_after_a_restart_is_not_answered_again(tmp_path, embedder, api):
    http, container = start(tmp_path, embedder, api)
    question = api.post_user_message("D0DM", "U1", "How do I report phishing?")
    body = event_body(as_message_event(question, "im"), event_id="EvONCE")
    with http:
        Slack(api, http, container).send(body)
        Slack(api, http, container).wait_answers()
    restarted, _ = start(tmp_path, embedder, api, content=False)  # a new process on the same database
    with restarted:
        again = Slack(api, restarted, container)
        assert again.send(body, retry=3).status_code == 200
        again.settled()
        assert again.work.accepted["EvONCE"] == 0  # the inbox in the database said: accepted (and answered) already
    assert len(api.of("chat.startStream")) == 1


def test_workspaces_install_through_oauth_and_are_answered_with_their_own_token(tmp_path, embedder, api):
    import base64
    import re

    http, container = start(tmp_path, embedder, api, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID="1234.5678",
                            SLACK_CLIENT_SECRET="shh", base_url="https://testserver")  # the state cookie is Secure
    with http:
        page = http.get("/slack/install")
        assert page.status_code == 200
        authorize = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.text).group(1)
        state = re.search(r"state=([\w-]+)", authorize).group(1)
        assert "client_id=1234.5678" in authorize and "app_mentions%3Aread" in authorize.replace(":", "%3A")

        done = http.get("/slack/oauth_redirect", params={"code": "c0de", "state": state})
        assert done.status_code == 200
        assert http.get("/slack/oauth_redirect", params={"code": "c0de", "state": state}).status_code == 400  # used
        [exchange] = api.of("oauth.v2.access")
        assert exchange.args["code"] == "c0de"
        assert exchange.token == "Basic " + base64.b64encode(b"1234.5678:shh").decode()  # the app's own credentials

        slack = Slack(api, http, container)
        question = api.post_user_message("D0OTHER", "U2", "How do I report phishing?")
        slack.send(event_body(as_message_event(question, "im"), team="T2OTHER"))
        slack.wait_answers()
        assert {c.token for c in api.of("chat.startStream", "chat.stopStream")} == {"xoxb-installed"}
        # a workspace that never installed the app gets nothing
        stranger = api.post_user_message("D0X", "U3", "How do I report phishing?")
        refused = slack.send(event_body(as_message_event(stranger, "im"), team="T3UNKNOWN", event_id="EvSTRANGER"))
        # Bolt's authorization refuses it within the request (no installation): no listener is ever started
        assert "installation with this app is no longer available" in refused.text
        assert slack.work.accepted["EvSTRANGER"] == 0
        slack.settled()
        assert len(api.of("chat.startStream")) == 1


def test_socket_mode_receives_events_over_a_websocket_and_acknowledges_them(tmp_path, embedder, api):
    import threading

    from websockets.sync.server import serve

    acks = []
    question = api.post_user_message("D0DM", "U1", "How do I report phishing?")

    def session(websocket):
        websocket.send(json.dumps({"type": "hello", "num_connections": 1}))
        websocket.send(json.dumps({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                                   "payload": json.loads(event_body(as_message_event(question, "im")))}))
        for message in websocket:
            acks.append(json.loads(message))

    with serve(session, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        api.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
        http, container = start(tmp_path, embedder, api, SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xapp-test")
        with http:
            slack = Slack(api, http, container)
            [answer] = slack.wait_answers()
            assert http.post("/slack/events", content="{}").status_code == 404  # no HTTP events in Socket Mode
        server.shutdown()
    assert {"envelope_id": "env-1"} in acks
    assert api.of("apps.connections.open")[0].token == "xapp-test"
    assert "How to report phishing" in blocks_text(answer)


def test_the_app_manifest_asks_for_what_the_connector_uses():
    from pathlib import Path

    import yaml

    from connectors.slack.bolt_app import SCOPES

    manifest = yaml.safe_load((Path(__file__).parents[2] / "deploy/slack/manifest.yml").read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "app_home_opened", "app_context_changed"} <= events
    # Slack's agent messaging experience, the only one a new app may use since June 2026
    features = manifest["features"]
    assert "assistant_view" not in features and "assistant_thread_started" not in events
    assert 0 < len(features["agent_view"]["agent_description"]) <= 300
    assert len(features["agent_view"]["suggested_prompts"]) <= 4
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/coach"]
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_a_micro_lesson_starts_from_its_button_and_its_quiz_is_graded(slack, tmp_path):
    from tests.integration.lesson_files import load_test_lessons

    load_test_lessons(slack.container, tmp_path)
    slack.event(as_message_event(slack.api.post_user_message("D0DM", "U7", "How do I report phishing?"), "im"))
    [answer] = slack.wait_answers()
    buttons = {e["action_id"]: e.get("value") for b in answer.args["blocks"] for e in b.get("elements", [])
               if e.get("type") == "button"}
    assert buttons["coach:lesson"] == "report-phishing"
    form, response_url = "application/x-www-form-urlencoded", slack.api.url + "/response/7"

    slack.send(interaction_body(button_click("coach:lesson", "report-phishing", user="U7",
                                             response_url=response_url)), content_type=form)
    [lesson] = slack.api.wait_for(lambda calls: any(c.method == "response_url" for c in calls)) and \
        slack.api.of("response_url")
    assert "Report phishing fast" in blocks_text(lesson) and "Quick check" in blocks_text(lesson)
    options = [e for b in lesson.args["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert [o["value"] for o in options] == [f"report-phishing:{i}" for i in range(3)]

    slack.send(interaction_body(button_click(options[0]["action_id"], options[0]["value"], user="U7",
                                             response_url=response_url)), content_type=form)
    slack.api.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= 2)
    graded = slack.api.of("response_url")[-1]
    assert "Right!" in blocks_text(graded) and graded.args["response_type"] == "ephemeral"
    assert slack.container.coach.export(f"slack:{TEAM}:U7")["lessons"]["lessons_done"] == ["report-phishing"]
