"""Which language the coach answers in (Coach.ask, Directory.language_for), fast, with fakes at the ports: the
learner's own choice, then the language the message is written in, then the platform's locale, then the profile."""

from __future__ import annotations

import pytest

from coach.answering import NOT_COVERED
from coach.i18n import _, speaking
from coach.learners import find, language_of, update_profile
from coach.messages import IncomingMessage
from tests.fakes.chat_model import FakeChatModel
from tests.unit.coach_rig import build

OFF_TOPIC_NL = "wat is de beste pizzeria in Napels?"


def dutch(text: str) -> str:
    with speaking("nl"):
        return _(text)


def ask(rig, text, learner="ana", **message):
    return rig.coach.ask(IncomingMessage(learner_id=learner, text=text, **message))


def test_a_question_written_in_dutch_is_declined_in_dutch_and_remembered(rig):
    update_profile(rig.engine, "ana")
    reply = ask(rig, OFF_TOPIC_NL)
    assert reply.abstained and reply.language == "nl" and reply.text == dutch(NOT_COVERED) != NOT_COVERED
    assert [a.label for a in reply.actions] == [dutch("Ask a person")]
    assert language_of(rig.engine, "ana") == "nl"  # so nudges and lessons follow
    assert ask(rig, "help").language == "nl"  # too short to tell: the profile's language


def test_the_platform_locale_counts_when_the_message_does_not_say(rig):
    assert ask(rig, "help", learner="bo", locale="nl-NL").language == "nl"
    assert ask(rig, "help", learner="bo", locale="en-US").language == "en"
    assert ask(rig, "help", learner="bo").language == "en"


def test_speak_dutch_is_the_learners_choice_and_wins_over_everything(rig):
    update_profile(rig.engine, "cas")
    chosen = ask(rig, "speak Dutch", learner="cas")
    assert chosen.language == "nl" and "Nederlands" in chosen.text
    english = ask(rig, "How do I report a phishing e-mail?", learner="cas", locale="en-US")
    assert english.language == "nl"  # an English question, an English browser: the choice holds
    assert find(rig.engine, "cas").preferences["language"] == "nl"
    assert ask(rig, "spreek Engels", learner="cas").language == "en"
    assert ask(rig, "help", learner="cas", locale="nl-NL").language == "en"


def test_self_service_in_dutch_is_understood_and_answered_in_dutch(rig):
    update_profile(rig.engine, "dee")
    reply = ask(rig, "vergeet mij", learner="dee")
    assert reply.language == "nl" and [a.kind for a in reply.actions] == ["forget_confirm", "cancel"]
    assert [a.label for a in reply.actions] == [dutch("Yes, forget me"), dutch("Cancel")]
    assert ask(rig, "wat weet je over mij?", learner="dee").text.startswith(dutch("Here is what I keep about you:"))
    assert rig.coach.act("dee", "cancel").text == dutch("Cancelled: nothing was changed.")


def test_extractive_answers_say_when_they_quote_content_in_another_language(rig):
    """(Dutch questions finding English content is the embedding model's part: test_multilingual.py.)"""
    update_profile(rig.engine, "eli", preferences={"language": "nl"})  # "spreek Nederlands"
    reply = ask(rig, "How do I report a phishing e-mail?", learner="eli")
    assert not reply.abstained and reply.language == "nl"
    assert reply.text.startswith(dutch("From the learning content, in English:") + "\n\n> Report a phishing e-mail")
    english = ask(rig, "How do I report a phishing e-mail?", learner="fay")
    assert english.language == "en" and english.text.startswith("From the learning content:\n")


def test_a_model_writes_in_the_learners_language(template, tmp_path):
    rig = build(template, tmp_path, model=FakeChatModel())
    update_profile(rig.engine, "ana", preferences={"language": "nl"})
    rig.model.enqueue("Stuur hem door naar security@example.com [1].")
    reply = ask(rig, "How do I report a phishing e-mail?")
    [prompt] = rig.model.history
    assert reply.language == "nl" and reply.mode == "generated" and "Answer in Dutch" in prompt.system
    rig.engine.dispose()
