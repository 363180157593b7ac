"""The coach in Teams, through the real /api/messages endpoint, with the activities' serviceUrl pointing at a mock
Bot Connector that records every reply: personal chat, channel mentions, card actions, installs, proactive messages,
redeliveries, connector failures, and Bot Framework JWTs checked against a local OpenID provider."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from fastapi.testclient import TestClient

from coach import addresses
from coach.bootstrap import bootstrap
from coach.learners import update_profile
from coach.messages import Reply
from coach.needs import needs_of
from coach.store.models import ModelExchange
from connectors.server import create_app
from connectors.teams.delivery import UNDELIVERED
from kernel.store import session
from tests.conftest import make_settings, write_content
from tests.fakes.bot_connector import BotConnector, FixedTokenCredentialFactory, OpenIdProvider
from tests.integration.teams_helpers import (CHANNEL, TENANT, card_action, channel_message, installed,
                                             personal_message)

APP_ID = "00000000-0000-4000-8000-00000000c0ac"
OUTGOING_TOKEN = "token-from-the-test-login"


def learner(who: str = "sam") -> str:
    return f"teams:{TENANT}:aad-{who}"


def cards(sent) -> list[dict]:
    return [a["content"] for a in sent.activity.get("attachments", [])
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


def shown(sent) -> str:
    """Everything a person sees of a sent activity: its text and its cards."""
    return (sent.activity.get("text") or "") + json.dumps(cards(sent))


def answers(connector: BotConnector) -> list:
    return [s for s in connector.of("message") if cards(s) or s.activity.get("text")]


@pytest.fixture
def connector():
    server = BotConnector()
    yield server
    server.close()


def start(tmp_path, embedder, credentials=None, content: bool = True, **settings):
    """The app server, with the test content ingested (`content=False`: it is there already)."""
    container = bootstrap(make_settings(tmp_path, **({"TEAMS_UPDATE_INTERVAL_S": 0.2} | settings)), embedder=embedder)
    if content:
        container.knowledge.ingest([write_content(tmp_path / "content")])
    return TestClient(create_app(container, teams_credentials=credentials)), container


@pytest.fixture
def teams(tmp_path, embedder):
    http, container = start(tmp_path, embedder)
    with http:
        yield http, container


def test_a_personal_question_streams_and_ends_in_one_cited_answer_with_its_actions(teams, connector):
    http, container = teams
    response = http.post("/api/messages", json=personal_message(connector.base_url, "How do I report a phishing e-mail?"))
    assert response.status_code == 202

    [answer] = answers(connector)
    assert answer.conversation == "a:personal-sam"
    assert "How to report phishing" in shown(answer) and "security@example.com" in shown(answer)
    entities = {e["type"]: e for e in answer.activity["entities"]}
    assert entities["streaminfo"]["streamType"] == "final"
    [citation, *_] = entities["https://schema.org/Message"]["citation"]
    assert citation["position"] == 1 and f"[{citation['position']}]" in answer.activity["text"]
    [card] = cards(answer)
    verbs = {a.get("verb") or a["card"]["actions"][0]["verb"] for a in card["actions"]}
    assert {"helpful", "not_helpful", "ask_human"} <= verbs

    informative, *updates = connector.of("typing")  # Teams streaming: at once a progress note, then the text
    [info] = [e for e in informative.activity["entities"] if e["type"] == "streaminfo"]
    assert info["streamType"] == "informative" and informative.reply_to
    assert entities["streaminfo"]["streamId"] == informative.id
    [need] = needs_of(container.engine, learner())
    assert need.platform == "teams" and need.channel == "dm" and need.answered
    assert addresses.personal(container.engine, learner(), "teams")["conversation"]["id"] == "a:personal-sam"


def test_a_channel_mention_is_answered_in_its_thread_without_the_mention(teams, connector):
    http, container = teams
    question = channel_message(connector.base_url, "How do I report a phishing e-mail?")
    assert http.post("/api/messages", json=question).status_code == 202

    [answer] = answers(connector)
    assert answer.conversation == question["conversation"]["id"] and answer.reply_to == question["id"]
    assert "How to report phishing" in json.dumps(cards(answer))  # in a channel the card carries the answer
    assert [t.activity.get("entities") for t in connector.of("typing")] == [None]  # no streaming outside chats
    [need] = needs_of(container.engine, learner())
    assert need.channel == "channel" and "Coach" not in need.question
    assert addresses.channel(container.engine, "teams", CHANNEL) is not None

    nudge = http.portal.call(container_bot(http).send, f"teams:channel:{CHANNEL}", Reply(text="Tip of the week"))
    assert nudge.delivered  # a manager's nudge to the channel: a new post in it, not a reply in that thread
    assert connector.of("message")[-1].conversation == CHANNEL and "Tip of the week" in shown(connector.of("message")[-1])
    elsewhere = http.portal.call(container_bot(http).send, "teams:channel:19:unknown@thread.tacv2", Reply(text="x"))
    assert not elsewhere.delivered and "not been added" in elsewhere.reason


def test_a_follow_up_in_the_same_thread_keeps_the_context(teams, connector):
    http, _ = teams
    http.post("/api/messages", json=channel_message(connector.base_url, "How do I report a phishing e-mail?"))
    http.post("/api/messages", json=channel_message(connector.base_url, "and how fast?"))
    first, follow_up = answers(connector)
    assert "hour" in shown(follow_up).lower() and follow_up.conversation == first.conversation
    http.post("/api/messages", json=channel_message(connector.base_url, "and how fast?", thread="1700000000999"))
    assert "hour" not in shown(answers(connector)[-1]).lower()  # another thread starts afresh


def test_a_follow_up_reaching_another_app_process_keeps_the_context(tmp_path, embedder, connector):
    from kernel.store import session
    from coach.store.models import ConversationTurn

    first, container = start(tmp_path, embedder)
    with first:
        first.post("/api/messages", json=personal_message(connector.base_url, "How do I report a phishing e-mail?"))
    replica, _ = start(tmp_path, embedder, content=False)  # another replica on the same database
    with replica:
        replica.post("/api/messages", json=personal_message(connector.base_url, "and how fast?"))
    assert "hour" in shown(answers(connector)[-1]).lower()
    container.coach.forget(learner())  # the turns go with the learner's questions
    with session(container.engine) as db:
        assert db.exec(select(ConversationTurn)).all() == []


def test_restricted_content_asked_in_a_channel_goes_to_the_askers_personal_chat(teams, connector):
    http, container = teams
    update_profile(container.engine, learner("mia"), groups=["managers"])
    question = "What is the merit budget in the salary review?"
    http.post("/api/messages", json=channel_message(connector.base_url, question, who="mia"))
    in_channel = [s for s in connector.sent if s.conversation.startswith(CHANNEL)]
    assert in_channel and all("3.5 percent" not in shown(s) for s in in_channel)
    [created] = connector.created  # the coach had only met Mia in the channel: it opens a personal chat
    assert created["members"][0]["id"] == "29:mia" and created["channelData"]["tenant"]["id"] == TENANT
    [private] = [s for s in connector.sent if not s.conversation.startswith(CHANNEL)]
    assert "3.5 percent" in shown(private)
    assert addresses.personal(container.engine, learner("mia"), "teams")["conversation"]["id"] == private.conversation

    http.post("/api/messages", json=channel_message(connector.base_url, question, who="eli"))
    assert len(connector.created) == 1 and all("3.5 percent" not in shown(s) for s in connector.sent
                                               if s.conversation.startswith(CHANNEL))


def test_card_actions_reach_the_core_and_answer_in_the_invoke_response(teams, connector):
    http, container = teams
    http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    [card] = cards(answers(connector)[0])
    need_id = next(a["data"]["value"] for a in card["actions"] if a.get("verb") == "helpful")

    response = http.post("/api/messages", json=card_action(connector.base_url, "helpful", need_id))
    assert response.status_code == 200
    assert response.json()["statusCode"] == 200 and "Thanks" in response.json()["value"]
    assert [n.feedback for n in needs_of(container.engine, learner())] == ["helpful"]

    note = "Nothing about phones; I'm on +31 6 1234 5678"
    http.post("/api/messages", json=card_action(connector.base_url, "not_helpful", need_id, note=note))
    [need] = needs_of(container.engine, learner())
    assert need.feedback == "not_helpful" and need.feedback_note == "Nothing about phones; I'm on <PHONE>"

    other = http.post("/api/messages", json=card_action(connector.base_url, "helpful", need_id, who="eli"))
    assert "no longer on record" in other.json()["value"]  # someone else cannot rate Sam's answer
    assert needs_of(container.engine, learner())[0].feedback == "not_helpful"

    http.post("/api/messages", json=personal_message(connector.base_url, "forget me"))
    confirm = http.post("/api/messages", json=card_action(connector.base_url, "forget_confirm", ""))
    assert confirm.json()["type"] == "application/vnd.microsoft.card.adaptive"  # the confirmation card is replaced
    assert "deleted" in json.dumps(confirm.json()["value"])
    assert needs_of(container.engine, learner()) == [] and addresses.personal(container.engine, learner(), "teams") is None


def test_install_welcomes_once_and_proactive_messages_reach_the_stored_conversation(tmp_path, embedder, connector):
    http, container = start(tmp_path, embedder)
    with http:
        for _ in range(2):  # Teams sends the install again when the app is updated
            assert http.post("/api/messages", json=installed(connector.base_url)).status_code == 202
        [welcome] = connector.of("message")
        assert welcome.conversation == "a:personal-sam" and "Hi Sam" in welcome.activity["text"]
        reference = addresses.personal(container.engine, learner(), "teams")
        assert reference["serviceUrl"] == connector.base_url

    http, container = start(tmp_path, embedder, content=False)  # a restart: the reference comes from the database
    with http:
        delivered = http.portal.call(container_bot(http).send, learner(), Reply(text="Time for your review.",
                                                                                  mode="service"))
        assert delivered.delivered
        [_, proactive] = connector.of("message")
        assert proactive.conversation == "a:personal-sam" and "Time for your review." in shown(proactive)
        unknown = http.portal.call(container_bot(http).send, learner("nobody"), Reply(text="x"))
        assert not unknown.delivered and "not met" in unknown.reason


def container_bot(http: TestClient):
    return http.app.state.teams


def test_a_redelivered_activity_is_answered_once(teams, connector):
    http, _ = teams
    question = personal_message(connector.base_url, "How do I report phishing?")
    assert http.post("/api/messages", json=question).status_code == 202
    assert http.post("/api/messages", json=question).status_code == 202  # Teams' retry after 15 s
    assert len(answers(connector)) == 1


def test_throttling_is_waited_out_and_an_undeliverable_answer_is_told(teams, connector):
    http, _ = teams
    connector.failures = [(429, {"Retry-After": "1"}), (503, {})]  # the progress note meets both
    http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    assert len(answers(connector)) == 1 and connector.attempts == len(connector.sent) + 2

    connector.fail_when = lambda activity: (400, {}) if activity.get("attachments") else None
    http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    assert connector.of("message")[-1].activity["text"] == UNDELIVERED


@pytest.fixture
def openid():
    provider = OpenIdProvider()
    yield provider
    provider.close()


def test_with_an_app_id_only_valid_bot_framework_tokens_get_in(tmp_path, embedder, connector, openid):
    http, _ = start(tmp_path, embedder, credentials=FixedTokenCredentialFactory(APP_ID, "secret", token=OUTGOING_TOKEN), MICROSOFT_APP_ID=APP_ID,
                    MICROSOFT_APP_PASSWORD="secret", TEAMS_OPENID_METADATA_URL=openid.metadata_url,
                    TEAMS_TOKEN_ISSUER=openid.issuer)
    question = personal_message(connector.base_url, "How do I report phishing?")
    url = connector.base_url
    forged = {
        "no token": None,
        "garbage": "Bearer not-a-jwt",
        "another app": "Bearer " + openid.token(app_id="someone-else", service_url=url),
        "another key": "Bearer " + openid.token(app_id=APP_ID, service_url=url, key=openid.generate_key()),
        "expired": "Bearer " + openid.token(app_id=APP_ID, service_url=url, expires_in=-600),
        "another service": "Bearer " + openid.token(app_id=APP_ID, service_url="https://evil.example.com/"),
        "another issuer": "Bearer " + openid.token(app_id=APP_ID, service_url=url, issuer="https://evil.example.com"),
    }
    with http:
        for name, header in forged.items():
            response = http.post("/api/messages", json=question, headers={"Authorization": header} if header else {})
            assert response.status_code == 401, name
        assert connector.attempts == 0

        valid = {"Authorization": "Bearer " + openid.token(app_id=APP_ID, service_url=url)}
        assert http.post("/api/messages", json=question, headers=valid).status_code == 202
        [answer] = answers(connector)
        assert answer.token == OUTGOING_TOKEN


def test_a_written_answer_streams_into_the_personal_chat_at_most_once_per_interval(tmp_path, embedder, connector):
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    with FakeOpenAI() as llm:
        llm.chat = [Scripted("Forward the e-mail to security@example.com within one hour, then delete it [1].",
                             word_delay=0.12)]
        http, _ = start(tmp_path, embedder, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test",
                        TEAMS_UPDATE_INTERVAL_S=0.4)
        with http:
            http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    informative, *chunks = connector.of("typing")
    info = lambda sent: next(e for e in sent.activity["entities"] if e["type"] == "streaminfo")
    assert 2 <= len(chunks) <= 5  # about 1.5 s of words at one update per 0.4 s, not one per word (13 words)
    assert all(info(c)["streamType"] == "streaming" and info(c)["streamId"] == informative.id for c in chunks)
    assert [info(c)["streamSequence"] for c in chunks] == list(range(2, len(chunks) + 2))
    texts = [c.activity["text"] for c in chunks]
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(texts, texts[1:]))  # Teams wants each to grow
    [answer] = answers(connector)
    assert info(answer)["streamType"] == "final" and "security@example.com" in answer.activity["text"]
    assert {e["type"] for e in answer.activity["entities"]} == {"streaminfo", "https://schema.org/Message"}
    message_entity = next(e for e in answer.activity["entities"] if e["type"] == "https://schema.org/Message")
    assert message_entity["additionalType"] == ["AIGeneratedContent"]
    assert answer.activity["channelData"] == {"feedbackLoop": {"type": "default"}}  # with Teams' feedback buttons


def test_the_stop_button_stops_the_model(tmp_path, embedder, connector):
    """Teams answers a streaming update with 403 once the learner pressed stop: the model call is cancelled (its
    stream closed, the server free) instead of writing on to its budget for no one."""
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    def stopped(body: dict):
        streaming = [e for e in body.get("entities") or [] if e.get("type") == "streaminfo"
                     and e.get("streamType") == "streaming" and e.get("streamSequence", 1) >= 2]
        return (403, {}) if streaming else None
    connector.fail_when = stopped
    with FakeOpenAI() as llm:
        llm.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
        http, container = start(tmp_path, embedder, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test",
                                LLM_BUDGET_S="120", TEAMS_UPDATE_INTERVAL_S=0.2)
        with http:
            http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
        assert llm.wait_idle() and len(llm.abandoned) == 1
    with session(container.engine) as db:
        assert db.exec(select(ModelExchange.outcome)).all() == ["cancelled"]


def test_a_micro_lesson_is_offered_under_an_answer_and_graded_from_its_card(teams, connector, tmp_path):
    from tests.integration.lesson_files import load_test_lessons

    http, container = teams
    load_test_lessons(container, tmp_path)
    http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    [card] = cards(answers(connector)[0])
    assert {"verb": "lesson", "value": "report-phishing"} in [
        {"verb": a.get("verb"), "value": a.get("data", {}).get("value")} for a in card["actions"]]

    started = http.post("/api/messages", json=card_action(connector.base_url, "lesson", "report-phishing"))
    assert started.json()["statusCode"] == 200
    lesson = connector.of("message")[-1]
    assert "Report phishing fast" in shown(lesson) and "Quick check" in shown(lesson)
    [lesson_card] = cards(lesson)
    first = lesson_card["actions"][0]
    assert first["verb"] == "answer" and first["data"]["value"] == "report-phishing:0"

    http.post("/api/messages", json=card_action(connector.base_url, "answer", "report-phishing:1"))
    graded = connector.of("message")[-1]
    assert "Not quite: the answer is **A**." in shown(graded)
    assert container.coach.export(learner())["lessons"]["quiz_answers"] == {"right": 0, "wrong": 1}
