"""Teams' own feedback buttons under an answer, through the real /api/messages endpoint and the mock Bot Connector:
the answer switches them on, a click (the `message/submitAction` invoke naming only the message) rates the need the
message answers, in any app process, by the asker alone, and nothing of it outlives "forget me"."""

from __future__ import annotations

from sqlmodel import select

from coach.learners import update_profile
from coach.needs import needs_of
from kernel.store import session
from coach.store.models import PostedAnswer
from tests.integration.teams_helpers import (CHANNEL, card_action, channel_message, installed, personal_message,
                                             rating)
from tests.integration.test_teams import answers, connector, learner, start, teams  # noqa: F401 (fixtures)

BUTTONS = {"feedbackLoop": {"type": "default"}}  # Microsoft's "Enhance AI-generated bot messages", Bot Framework SDK


def test_an_answer_shows_teams_feedback_buttons_and_a_click_rates_its_need(teams, connector):
    http, container = teams
    http.post("/api/messages", json=personal_message(connector.base_url, "How do I report a phishing e-mail?"))
    [answer] = answers(connector)
    assert answer.activity["channelData"] == BUTTONS

    note = "Nothing about phones; I'm on +31 6 1234 5678"
    response = http.post("/api/messages", json=rating(connector.base_url, answer.id, "dislike", note))
    assert response.status_code == 200 and response.json() == {}  # what Teams wants back, whatever came of it
    [need] = needs_of(container.engine, learner())
    assert need.feedback == "not_helpful" and need.feedback_note == "Nothing about phones; I'm on <PHONE>"

    informative = connector.of("typing")[0]  # the streamed message may be named by its stream's id as well
    assert http.post("/api/messages", json=rating(connector.base_url, informative.id, "like")).json() == {}
    [need] = needs_of(container.engine, learner())
    assert need.feedback == "helpful" and need.feedback_note.endswith("<PHONE>")  # an empty form keeps the note


def test_only_answers_to_questions_carry_the_buttons(teams, connector):
    http, _ = teams
    for activity in (installed(connector.base_url), personal_message(connector.base_url, "help"),
                     personal_message(connector.base_url, "pause")):
        http.post("/api/messages", json=activity)
    assert len(connector.of("message")) == 3
    assert all("feedbackLoop" not in (s.activity.get("channelData") or {}) for s in connector.of("message"))


def test_a_click_days_later_reaches_the_need_from_another_app_process_until_forget_me(tmp_path, embedder, connector):
    http, container = start(tmp_path, embedder)
    with http:
        http.post("/api/messages", json=personal_message(connector.base_url, "How do I report phishing?"))
    [answer] = answers(connector)

    http, container = start(tmp_path, embedder, content=False)  # a restart, or another replica: nothing in memory
    with http:
        response = http.post("/api/messages", json=rating(connector.base_url, answer.id, "like", "Clear, thanks"))
        assert response.status_code == 200
        [need] = needs_of(container.engine, learner())
        assert need.feedback == "helpful" and need.feedback_note == "Clear, thanks"

        http.post("/api/messages", json=personal_message(connector.base_url, "forget me"))
        http.post("/api/messages", json=card_action(connector.base_url, "forget_confirm", ""))
        with session(container.engine) as db:
            assert db.exec(select(PostedAnswer)).all() == []  # which message answered what went with the need
        again = http.post("/api/messages", json=rating(connector.base_url, answer.id, "dislike"))
        assert again.status_code == 200 and again.json() == {} and needs_of(container.engine, learner()) == []


def test_in_a_channel_only_the_asker_rates_and_a_private_answer_is_rated_in_its_own_chat(teams, connector):
    http, container = teams
    update_profile(container.engine, learner("mia"), groups=["managers"])
    question = channel_message(connector.base_url, "What is the merit budget in the salary review?", who="mia")
    http.post("/api/messages", json=question)
    [public] = [s for s in answers(connector) if s.conversation.startswith(CHANNEL)]
    [private] = [s for s in answers(connector) if not s.conversation.startswith(CHANNEL)]  # opened by the coach
    assert public.activity["channelData"] == private.activity["channelData"] == BUTTONS
    rated = lambda: needs_of(container.engine, learner("mia"))[0].feedback  # noqa: E731

    thread = question["conversation"]
    other = http.post("/api/messages", json=rating(connector.base_url, public.id, "dislike", who="eli",
                                                   conversation=thread))
    assert other.status_code == 200 and other.json() == {} and rated() is None  # not Eli's answer to rate

    channel = {"id": CHANNEL, "conversationType": "channel"}  # Teams may name the channel without the thread
    http.post("/api/messages", json=rating(connector.base_url, public.id, "dislike", who="mia", conversation=channel))
    assert rated() == "not_helpful"

    personal = {"id": private.conversation, "conversationType": "personal"}
    http.post("/api/messages", json=rating(connector.base_url, private.id, "like", who="mia", conversation=personal))
    assert rated() == "helpful"
    elsewhere = http.post("/api/messages", json=rating(connector.base_url, private.id, "dislike", who="mia"))
    assert elsewhere.json() == {} and rated() == "helpful"  # a message id names a message in its conversation only
