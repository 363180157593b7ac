"""Teams rendering: Markdown into Adaptive Card text blocks, the answer card (sources, actions), the citation entity
in Teams' format, and card actions read back into the core's action kinds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft6Validator
from markdown_it import MarkdownIt

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
    assert blocks[0] == {"type": "TextBlock", "text": "Claims", "wrap": True, "weight": "Bolder", "size": "Medium"}
    assert blocks[1] == {"type": "TextBlock", "text": "Submit **within 30 days** [1].", "wrap": True}
    assert blocks[2] == {"type": "TextBlock", "text": "- receipts\n- [form](https://x.example)", "wrap": True,
                         "separator": True}  # the rule is the line above what follows it
    assert blocks[3] == {"type": "RichTextBlock", "inlines": [  # a TextRun is never read as Markdown: code as typed
        {"type": "TextRun", "text": "coach ingest ./docs", "fontType": "Monospace"}]}
    assert blocks[4]["text"] == "Done." and len(blocks) == 5


def test_an_answer_cut_inside_a_code_fence_keeps_its_code():
    assert markdown_blocks("Run:\n```\nmake run")[-1]["inlines"][0]["text"] == "make run"


def test_what_text_block_markdown_lacks_is_a_rich_text_block():
    [block] = markdown_blocks("Run `make **run**` not ~~make all~~, see [the guide](https://x.example).")
    assert block == {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": "Run "},
        {"type": "TextRun", "text": "make **run**", "fontType": "Monospace"},
        {"type": "TextRun", "text": " not "},
        {"type": "TextRun", "text": "make all", "strikethrough": True},
        {"type": "TextRun", "text": ", see "},
        {"type": "TextRun", "text": "the guide", "selectAction": {"type": "Action.OpenUrl", "url": "https://x.example"}},
        {"type": "TextRun", "text": "."}]}


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


# --- Markdown from the parser's tokens: tables, quotes, lists, lessons; the card against Microsoft's schema --------

ADAPTIVE_CARD_SCHEMA = Path(__file__).parents[1] / "schemas" / "adaptive_cards" / "1.5.0.json"
# what a TextBlock renders of Markdown (Microsoft's "Text features": bold, italic, lists, links, line breaks); what
# this parser leaves as text is what the learner reads as typed
TEXT_BLOCK_MARKDOWN = MarkdownIt("zero").enable(["emphasis", "list", "link", "newline"])


def elements(node):
    """Every element of a card (or of a list of elements), depth first."""
    if isinstance(node, list):
        for item in node:
            yield from elements(item)
    elif isinstance(node, dict):
        if "type" in node:
            yield node
        for key in ("body", "items", "rows", "cells"):
            yield from elements(node.get(key, []))


def shown(block: dict) -> str:
    """What a learner reads of a TextBlock (its Markdown rendered) or a RichTextBlock (its runs, never Markdown)."""
    if block["type"] == "RichTextBlock":
        return "".join(run["text"] for run in block["inlines"])
    return "\n".join("".join(child.content if child.type == "text" else "\n" if child.type.endswith("break") else ""
                             for child in token.children)
                     for token in TEXT_BLOCK_MARKDOWN.parse(block["text"]) if token.type == "inline")


def assert_valid_card(content: dict) -> None:
    """Valid against the Adaptive Card 1.5 schema (microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json), once
    Teams' own `msteams` property (full width, a Teams host extension the schema does not list) is set aside."""
    def without_msteams(node):
        if isinstance(node, dict):
            return {k: without_msteams(v) for k, v in node.items() if k != "msteams"}
        return [without_msteams(v) for v in node] if isinstance(node, list) else node

    validator = Draft6Validator(json.loads(ADAPTIVE_CARD_SCHEMA.read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(without_msteams(content))]
    assert errors == []


def test_an_answer_with_a_table_quote_and_list_shows_no_raw_markdown():
    from tests.unit.rendering_samples import answer, raw_markdown

    content = answer_card(answer())
    assert_valid_card(content)
    body = content["body"]
    [quote] = [b for b in body if b["type"] == "Container" and b.get("style") == "emphasis"]
    assert quote["items"] == [{"type": "TextBlock", "wrap": True, "text": "Employees who use their own vehicle for "
                                                                          "work trips get **EUR 0.23** per km. [1]"}]
    [table] = [b for b in body if b["type"] == "Table"]
    assert table["firstRowAsHeader"] is True and len(table["columns"]) == 3
    assert [c.get("horizontalCellContentAlignment") for c in table["columns"]] == [None, "Center", "Right"]
    cells = [[shown(cell["items"][0]) if cell["items"] else "" for cell in row["cells"]] for row in table["rows"]]
    assert cells == [["Country", "Vehicle", "Rate"],
                     ["Netherlands", "Car, motorbike or bicycle", "EUR 0.23 per km [2]"],
                     ["Belgium", "", "EUR 0.15 per km"]]
    assert all(cell["items"][0]["weight"] == "Bolder" for cell in table["rows"][0]["cells"])
    [items] = [b for b in body if b["type"] == "TextBlock" and b["text"].startswith("- ")]
    assert items["text"] == "- claim **within 30 days** [1]\n- keep the receipts"  # a list, as TextBlocks render it
    texts = [shown(e) for e in elements(body) if e["type"] in ("TextBlock", "RichTextBlock")]
    assert "[2]" in texts and "What to keep in mind:" in texts
    for text in texts:
        assert raw_markdown(text) == [], text


def test_a_lesson_from_the_core_is_a_card_with_a_table_and_one_button_per_option(rig, tmp_path):
    from tests.unit.rendering_samples import LESSON_KEY, lesson, raw_markdown

    content = answer_card(lesson(rig, tmp_path))
    assert_valid_card(content)
    [table] = [b for b in content["body"] if b["type"] == "Table"]
    assert [[shown(cell["items"][0]) for cell in row["cells"]] for row in table["rows"]] == [
        ["Country", "Rate"], ["Netherlands", "EUR 0.23 per km"], ["Belgium", "EUR 0.15 per km"]]
    buttons = content["actions"]
    assert [(b["type"], b["title"]) for b in buttons] == [
        ("Action.Execute", "A. EUR 0.23"), ("Action.Execute", "B. EUR 0.15"), ("Action.Execute", "C. Nothing")]
    # a click comes back as the bot reads it (an adaptiveCard/action invoke's verb and data)
    assert [chosen(b["data"], b["verb"]) for b in buttons] == [("answer", f"{LESSON_KEY}:{i}", "") for i in range(3)]
    texts = [shown(e) for e in elements(content["body"]) if e["type"] in ("TextBlock", "RichTextBlock")]
    assert "Quick check: What do you get per km in the Netherlands?" in texts
    assert "A. EUR 0.23\nB. EUR 0.15\nC. Nothing" in texts
    for text in texts:
        assert raw_markdown(text) == [], text


def test_every_card_the_coach_sends_is_valid_adaptive_card_json_and_a_broken_one_is_not():
    from tests.unit.rendering_samples import answer

    rich = ("# Steps\n\n1. `make run`\n2. ~~old~~ new\n\n> > nested [x](https://x.example)\n\n"
            "```\ncode\n```\n\n---\n\nEnd")
    reply = Reply(text=rich, citations=[cite(1)], notice="Written from the passages alone.", actions=[
        Action("helpful", "Helpful", "n"), Action("not_helpful", "Not helpful", "n"),
        Action("forget_confirm", "Forget me", "x")])
    for content in (answer_card(reply), answer_card(reply, with_text=False), answer_card(answer())):
        assert_valid_card(content)
    broken = answer_card(answer())
    next(e for e in elements(broken["body"]) if e["type"] == "TableCell")["items"] = "not a list"
    with pytest.raises(AssertionError):
        assert_valid_card(broken)


def test_an_e_mail_address_in_a_reply_opens_a_teams_chat_with_that_person():
    from connectors.teams.cards import markdown_blocks

    blocks = markdown_blocks("For information security, ask [sam@acme.example](mailto:sam@acme.example).")
    assert "[sam@acme.example](https://teams.microsoft.com/l/chat/0/0?users=sam@acme.example)" in str(blocks)
