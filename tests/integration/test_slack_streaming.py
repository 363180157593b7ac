"""Answers in Slack as they are written: Slack's own text stream where Slack streams (every thread), paced; the
placeholder edited in place where it is switched off; and what happens when Slack refuses to stream, or the model's
text is replaced by the checked extractive answer after it was shown."""

from __future__ import annotations

import time

from tests.fakes.openai_api import FakeOpenAI, Scripted
from tests.integration.slack_helpers import as_message_event, mention
from tests.integration.test_slack import FAILED, GENERAL, Slack, api, blocks_text, elements, slack, start  # noqa: F401

PHISHING = "Forward the e-mail to security@example.com within one hour, then delete it [1]."


def ask_with_model(tmp_path, embedder, api, written: str, *, word_delay: float, until=None, **settings):
    """One DM question to a coach whose model writes `written` word by word; returns once it is answered (or
    `until(calls)` holds)."""
    with FakeOpenAI() as llm:
        llm.chat = [Scripted(written, word_delay=word_delay)]
        http, container = start(tmp_path, embedder, api, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test",
                                **settings)
        with http:
            slack = Slack(api, http, container)
            slack.event(as_message_event(api.post_user_message("D0DM", "U1", "How do I report phishing?"), "im"))
            return api.wait_for(until) if until else slack.wait_answers()[0]


def test_a_written_answer_streams_natively_at_most_once_per_interval(tmp_path, embedder, api):
    answer = ask_with_model(tmp_path, embedder, api, PHISHING, word_delay=0.12, SLACK_UPDATE_INTERVAL_S=0.4)
    parts = [c for c in api.of("chat.startStream", "chat.appendStream") if c.args.get("chunks")]
    assert 2 <= len(parts) <= 5  # about 1.2 s of writing at one call per 0.4 s, not one call per word (13 words)
    assert answer.message["text"] == PHISHING and answer.message["streaming_state"] == "completed"
    assert all(chunk["type"] == "markdown_text" for c in parts for chunk in c.args["chunks"])
    assert "How to report phishing" in blocks_text(answer)  # the sources under the streamed text
    assert api.of("chat.update") == []


def test_without_native_streaming_a_placeholder_is_edited_at_most_once_per_interval(tmp_path, embedder, api):
    answer = ask_with_model(tmp_path, embedder, api, PHISHING, word_delay=0.12, SLACK_UPDATE_INTERVAL_S=0.4,
                            SLACK_NATIVE_STREAMING="false")
    updates = api.of("chat.update")
    partials = updates[:-1]
    assert len(partials) >= 2 and updates[-1] is answer  # the text grew in place, then the cited answer
    assert all(len(a.args["text"]) < len(b.args["text"]) for a, b in zip(partials, partials[1:]))
    assert "security@example.com" in blocks_text(answer) and "How to report phishing" in blocks_text(answer)
    # paced: about 1.2 s of streaming at one edit per 0.4 s is 3-4 edits, not one per word (13 words)
    assert len(partials) <= 5


def test_where_slack_will_not_stream_the_answer_is_posted_whole(slack):
    slack.api.errors["chat.startStream"] = "channel_type_not_supported"
    question = slack.api.post_user_message("D0DM", "U1", "How do I report phishing?")
    slack.event(as_message_event(question, "im"))
    [answer] = slack.wait_answers()
    assert answer.method == "chat.postMessage" and answer.args["thread_ts"] == question["ts"]
    assert "security@example.com" in blocks_text(answer) and "How to report phishing" in blocks_text(answer)
    assert any(e["type"] == "feedback_buttons" for e in elements(answer))
    assert slack.api.of("chat.stopStream") == []


def test_a_model_answer_replaced_by_the_checked_one_is_not_left_as_streamed(tmp_path, embedder, api):
    invented = "Phishing is reported by fax to the board within a week [7]."  # cites a passage that is not there
    ask_with_model(tmp_path, embedder, api, invented, word_delay=0.05, SLACK_UPDATE_INTERVAL_S=0.1,
                   until=lambda calls: any(c.method == "chat.update" for c in calls))
    streamed = "".join(c["text"] for call in api.of("chat.startStream", "chat.appendStream")
                       for c in call.args.get("chunks", []))
    assert "fax" in streamed  # the model's text was shown while it was written...
    [stopped] = api.of("chat.stopStream")
    shown = stopped.message["text"] + str(stopped.message["blocks"])
    assert "fax" not in shown and "security@example.com" in shown  # ...and replaced by the checked answer


def test_a_failure_after_the_stream_began_ends_it_with_an_apology(slack, monkeypatch):
    def broken(message, on_partial=None, cancel=None):
        on_partial("Let me look")
        slack.api.wait_for(lambda calls: any(c.args.get("chunks") for c in calls  # the partial text is streamed
                                             if c.method in ("chat.startStream", "chat.appendStream")))
        raise RuntimeError("the vector store went away")

    monkeypatch.setattr(slack.container.coach, "ask", broken)
    slack.event(mention(slack.api.post_user_message(GENERAL, "U1", "<@UCOACHBOT> phishing?")))
    [answer] = slack.wait_answers()
    assert any(c.args.get("chunks") for c in slack.api.of("chat.startStream", "chat.appendStream"))
    assert answer.message["text"] == FAILED and answer.message["streaming_state"] == "completed"


def test_a_model_that_never_stops_writing_is_cut_at_the_deadline_and_the_quoted_answer_posted(tmp_path, embedder,
                                                                                                api):
    with FakeOpenAI() as llm:
        llm.chat = [Scripted("Forward it to security [1]", drip=True, word_delay=0.05)]
        http, container = start(tmp_path, embedder, api, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test",
                                LLM_BUDGET_S="2", SLACK_UPDATE_INTERVAL_S=0.2)
        with http:
            slack = Slack(api, http, container)
            slack.event(as_message_event(api.post_user_message("D0DM", "U1", "How do I report phishing?"), "im"))
            answer = slack.wait_answers()[0]
            assert llm.wait_idle() and len(llm.abandoned) == 1  # the model's stream was closed at the deadline
    shown = str(answer.message["blocks"]) + answer.message["text"]
    assert "took too long" in shown and "security@example.com" in shown  # the notice, then the cited quote
    assert "How to report phishing" in blocks_text(answer)
