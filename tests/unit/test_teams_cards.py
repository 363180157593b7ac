"""Teams rendering: Markdown into Adaptive Card text blocks, the answer card (sources, actions), the citation entity
in Teams' format, and card actions read back into the core's action kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from coach.messages import Action, Citation, Reply
from connectors.teams.cards import answer_card, chosen, citation_entity, markdown_blocks
from connectors.teams.delivery import answer_activity

WHEN = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def cite(n: int, title: str = "Onboarding guide", link: str = "https://lms.example.com/onboarding") -> Citation:
    return Citation(n=n, source_id=f"src{n}", chunk_id=f"src{n}#1", title=title, where="p. 4", link=link,
                    updated_at=WHEN)


def test_markdown_keeps_what_text_blocks_render_and_converts_the_rest():
    blocks = markdown_blocks("## Claims\nSubmit **within 30 days** [1].\n\n---\n- receipts\n- [form](https://x.example)\n"
                             "```\ncoach ingest ./docs\n```\nDone.")
    assert blocks[0]["text"] == "**Claims**\nSubmit **within 30 days** [1].\n\n- receipts\n- [form](https://x.example)"
    assert blocks[1] == {"type": "TextBlock", "text": "coach ingest ./docs", "wrap": True, "fontType": "Monospace"}
    assert blocks[2]["text"] == "Done." and all(b["wrap"] for b in blocks)


def test_an_answer_cut_inside_a_code_fence_keeps_its_code():
    assert markdown_blocks("Run:\n```\nmake run")[-1]["text"] == "make run"


def test_the_answer_card_numbers_its_sources_and_turns_actions_into_buttons():
    reply = Reply(text="Claim it in the portal [1].", citations=[cite(1), cite(2, "Policy [v2]", link="")],
                  notice="Written from the passages alone.",
                  actions=[Action("helpful", "Helpful", "need1"), Action("not_helpful", "Not helpful", "need1")])
    card = answer_card(reply)
    assert card["version"] == "1.5" and card["body"][0]["isSubtle"]
    assert card["body"][1]["text"] == "Claim it in the portal [1]."
    sources = card["body"][2]["items"]
    assert sources[1]["text"] == "1. [Onboarding guide](https://lms.example.com/onboarding) · p. 4 · updated 05 Mar 2026"
    assert sources[2]["text"].startswith("2. **Policy (v2)**")  # no link to make, brackets cannot break markdown
    helpful, not_helpful = card["actions"]
    assert helpful == {"type": "Action.Execute", "title": "Helpful", "verb": "helpful",
                       "data": {"coach": "helpful", "value": "need1"}}
    assert not_helpful["type"] == "Action.ShowCard"  # asks what was missing before it is sent
    [note] = not_helpful["card"]["body"]
    [send] = not_helpful["card"]["actions"]
    assert note["type"] == "Input.Text" and note["id"] == "note" and send["verb"] == "not_helpful"
    assert "Claim it" not in str(answer_card(reply, with_text=False)["body"])


def test_card_actions_read_back_from_invokes_and_submitted_messages():
    assert chosen({"coach": "not_helpful", "value": "n1", "note": "more on phones"}, "not_helpful") == \
        ("not_helpful", "n1", "more on phones")
    assert chosen({"coach": "resume"}) == ("resume", "", "")
    assert chosen(None) is None and chosen({"text": "hello"}) is None


def test_citations_use_teams_format_and_only_written_answers_carry_the_ai_label():
    extractive = Reply(text="From the guide [1].", citations=[cite(1), cite(2)])
    entity = citation_entity(extractive)
    assert [c["position"] for c in entity["citation"]] == [1]  # only what the text cites
    assert entity["citation"][0]["appearance"]["url"] == "https://lms.example.com/onboarding"
    assert "additionalType" not in entity
    assert citation_entity(Reply(text="x [1]", citations=[cite(1)], mode="generated"))["additionalType"] == \
        ["AIGeneratedContent"]


def test_the_citation_entity_has_the_shape_microsofts_docs_give_and_at_most_20_citations():
    long_title = "A" * 120
    reply = Reply(text=" ".join(f"[{n}]" for n in range(1, 26)), mode="generated",
                  citations=[cite(n, long_title if n == 1 else f"Guide {n}") for n in range(1, 26)])
    entity = citation_entity(reply)
    assert {k: entity[k] for k in ("type", "@type", "@context", "additionalType")} == {
        "type": "https://schema.org/Message", "@type": "Message", "@context": "https://schema.org",
        "additionalType": ["AIGeneratedContent"]}
    assert [c["position"] for c in entity["citation"]] == list(range(1, 21))  # Teams refuses a message with more
    first = entity["citation"][0]
    assert first["@type"] == "Claim" and first["appearance"]["@type"] == "DigitalDocument"
    assert len(first["appearance"]["name"]) == 80 and 0 < len(first["appearance"]["abstract"]) <= 160


def test_only_an_answer_to_a_question_switches_on_teams_feedback_buttons():
    answer = Reply(text="From the guide [1].", citations=[cite(1)], need_id="n1")
    assert answer_activity(answer, text_in_message=True).serialize()["channelData"] == {
        "feedbackLoop": {"type": "default"}}
    assert "channelData" not in answer_activity(Reply(text="Paused.", mode="service"), text_in_message=True).serialize()


def test_an_answer_activity_serializes_its_card_and_entities():
    reply = Reply(text="From the guide [1].", citations=[cite(1)], actions=[Action("helpful", "Helpful", "n")])
    personal = answer_activity(reply, text_in_message=True).serialize()
    assert personal["text"] == "From the guide [1]." and personal["textFormat"] == "markdown"
    assert personal["entities"][0]["citation"][0]["@type"] == "Claim"
    assert personal["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    channel = answer_activity(reply, text_in_message=False).serialize()
    assert channel["text"] == "" and "From the guide" in str(channel["attachments"][0]["content"]["body"])
