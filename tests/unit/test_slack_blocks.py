"""Slack rendering: Markdown to mrkdwn, answer blocks (sources, buttons, Slack's limits), fallback text, and what a
learner typed in Slack read back as plain text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from coach.messages import Action, Citation, Reply
from connectors.slack.blocks import (
    answer_blocks,
    button_action,
    fallback_text,
    placeholder_blocks,
    to_mrkdwn,
)
from connectors.slack.text import plain_text

WHEN = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def cite(n: int, title: str = "Onboarding guide", link: str = "https://lms.example.com/onboarding",
         where: str = "p. 4") -> Citation:
    return Citation(n=n, source_id=f"src{n}", chunk_id=f"src{n}#1", title=title, where=where, link=link,
                    updated_at=WHEN)


def texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


# --- to_mrkdwn ---------------------------------------------------------------------------------------------------

MRKDWN_CASES = [
    # emphasis: bold must not come out as italic
    ("**bold** and __also bold__", "*bold* and *also bold*"),
    ("*italic* and _also italic_", "_italic_ and _also italic_"),
    ("**bold** then *italic*", "*bold* then _italic_"),
    ("**bold with *italic* inside**", "*bold with _italic_ inside*"),
    ("***both***", "*_both_*"),
    ("~~gone~~", "~gone~"),
    ("5 * 3 * 2 stays", "5 * 3 * 2 stays"),
    ("snake_case_name stays", "snake_case_name stays"),
    # links
    ("[the guide](https://x.example/guide)", "<https://x.example/guide|the guide>"),
    ("[**bold label**](https://x.example)", "<https://x.example|bold label>"),
    ("[a & b](https://x.example/?a=1&b=2)", "<https://x.example/?a=1&amp;b=2|a &amp; b>"),
    ("[local](docs/page.md)", "local"),
    ("[wiki](https://w.example/Foo_(bar)) [t](https://x.example \"Title\")",
     "<https://w.example/Foo_(bar)|wiki> <https://x.example|t>"),
    ("see https://x.example/a__b__c.", "see https://x.example/a__b__c."),
    ("(https://x.example/page)", "(https://x.example/page)"),
    ("<https://x.example/auto>", "<https://x.example/auto>"),
    # headings, any level
    ("# Title", "*Title*"),
    ("### Deeper level ###", "*Deeper level*"),
    ("## **Already bold**", "*Already bold*"),
    # lists
    ("- one\n* two\n+ three", "• one\n• two\n• three"),
    ("- top\n  - nested\n    - deeper", "• top\n  • nested\n    • deeper"),
    ("- **bold** item", "• *bold* item"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("---", ""),
    # quotes
    ("> quoted **text**", "> quoted *text*"),
    (">> nested quote", "> nested quote"),
    ("> - quoted item", "> • quoted item"),
    # escaping
    ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
    ("<script>", "&lt;script&gt;"),
    # inline code untouched (only escaped)
    ("run `__init__ **x** [1](y)`", "run `__init__ **x** [1](y)`"),
    ("`a < b`", "`a &lt; b`"),
    ("``code with ` tick``", "``code with ` tick``"),
]


@pytest.mark.parametrize(("markdown", "expected"), MRKDWN_CASES)
def test_to_mrkdwn(markdown: str, expected: str) -> None:
    assert to_mrkdwn(markdown) == expected


def test_fenced_code_is_verbatim_without_language_tag() -> None:
    markdown = "Intro **x**\n```python\ndef f(a):\n    return a**2  # __not bold__\n- not a list\n```\nAfter *y*"
    assert to_mrkdwn(markdown) == ("Intro *x*\n```\ndef f(a):\n    return a**2  # __not bold__\n- not a list\n```\n"
                                   "After _y_")


def test_tilde_fence_and_escaping_inside_code() -> None:
    assert to_mrkdwn("~~~\nif a < b & c:\n~~~") == "```\nif a &lt; b &amp; c:\n```"


def test_unclosed_fence_is_closed() -> None:
    assert to_mrkdwn("```\npartial code") == "```\npartial code\n```"


def test_one_line_triple_backticks_is_inline_code() -> None:
    assert to_mrkdwn("use ```x**y``` here") == "use ```x**y``` here"


# --- answer_blocks -------------------------------------------------------------------------------------------------

def test_plain_reply_is_just_its_text() -> None:
    assert answer_blocks(Reply(text="Hello **there**")) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Hello *there*"}}]


def test_notice_comes_first_as_context() -> None:
    blocks = answer_blocks(Reply(text="Answer", notice="The language model is not answering right now."))
    assert blocks[0] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "The language model is not answering right now."}]}
    assert texts(blocks) == ["Answer"]


def test_citation_markers_link_when_the_source_has_a_link() -> None:
    reply = Reply(text="Badges first [1], then the form [2]. See `[1]`.",
                  citations=[cite(1), cite(2, title="Forms", link="")])
    first = texts(answer_blocks(reply))[0]
    assert first == "Badges first <https://lms.example.com/onboarding|[1]>, then the form [2]. See `[1]`."


def test_sources_list() -> None:
    reply = Reply(text="Text [1] [2] [3]", citations=[
        cite(1),
        cite(2, title="Q&A <draft>", link="", where="slide 3"),
        cite(3, title="Video", link="https://v.example/x?a=1&b=2", where=""),
    ])
    sources = texts(answer_blocks(reply))[1]
    assert sources == ("*Sources*\n"
                       "1. *<https://lms.example.com/onboarding|Onboarding guide>* · p. 4 · updated 05 Mar 2026\n"
                       "2. *Q&amp;A &lt;draft&gt;* · slide 3 · updated 05 Mar 2026\n"
                       "3. *<https://v.example/x?a=1&amp;b=2|Video>* · updated 05 Mar 2026")


def test_non_web_link_is_not_linked() -> None:
    reply = Reply(text="See [1]", citations=[cite(1, link="/srv/content/guide.pdf")])
    assert texts(answer_blocks(reply)) == ["See [1]", "*Sources*\n1. *Onboarding guide* · p. 4 · updated 05 Mar 2026"]


def test_buttons() -> None:
    reply = Reply(text="Sure?", actions=[Action("forget_confirm", "Yes, forget me", "need-7"),
                                         Action("cancel", "Cancel")])
    actions = answer_blocks(reply)[-1]
    assert actions == {"type": "actions", "elements": [
        {"type": "button", "action_id": "coach:forget_confirm", "value": "need-7", "style": "danger",
         "text": {"type": "plain_text", "text": "Yes, forget me", "emoji": True}},
        {"type": "button", "action_id": "coach:cancel",
         "text": {"type": "plain_text", "text": "Cancel", "emoji": True}},
    ]}


def test_button_action_ids_stay_unique() -> None:
    reply = Reply(text="Pick a lesson", actions=[Action("lesson", "A", "a"), Action("helpful", "Helpful"),
                                                 Action("lesson", "B", "b"), Action("lesson", "C", "c")])
    elements = answer_blocks(reply)[-1]["elements"]
    ids = [e["action_id"] for e in elements]
    assert ids == ["coach:lesson", "coach:helpful", "coach:lesson:2", "coach:lesson:3"]
    assert [e["value"] for e in elements if "value" in e] == ["a", "b", "c"]
    assert "style" not in elements[0]
    assert [button_action(e)[0] for e in elements] == ["lesson", "helpful", "lesson", "lesson"]


def test_button_action() -> None:
    assert button_action({"action_id": "coach:helpful", "value": "n1"}) == ("helpful", "n1")
    assert button_action({"action_id": "coach:helpful:1"}) == ("helpful", "")
    assert button_action({"action_id": "coach:not_helpful", "value": "n1"}) == ("not_helpful", "n1")
    # a click on Slack's feedback buttons, as Slack sends it: the value names the rating and the need
    clicked = {"type": "feedback_buttons", "action_id": "coach:feedback", "block_id": "b1", "value": "not_helpful:n7",
               "text": {"type": "plain_text", "text": "Not helpful", "emoji": True}, "action_ts": "1.0"}
    assert button_action(clicked) == ("not_helpful", "n7")


def test_an_answer_is_rated_with_slacks_own_feedback_buttons() -> None:
    from slack_sdk.models.blocks import Block

    reply = Reply(text="Claim it in the portal [1].", citations=[cite(1)], need_id="n7", actions=[
        Action("helpful", "Helpful", "n7"), Action("not_helpful", "Not helpful", "n7"),
        Action("lesson", "Micro-lesson: Claims", "claims")])
    blocks = answer_blocks(reply)
    rating = blocks[-1]
    assert rating["type"] == "context_actions" and [e["type"] for e in rating["elements"]] == ["feedback_buttons"]
    buttons = rating["elements"][0]
    assert (buttons["positive_button"]["value"], buttons["negative_button"]["value"]) == ("helpful:n7",
                                                                                          "not_helpful:n7")
    assert Block.parse(rating).to_dict() == rating  # slack_sdk's own model takes it as it is, and validates it
    assert [e["action_id"] for e in blocks[-2]["elements"]] == ["coach:lesson"]  # the rest stay buttons
    # streamed already: the blocks under it carry no answer text, only sources, buttons and the rating
    tail = answer_blocks(reply, text=False)
    assert "portal" not in str(tail) and "Onboarding guide" in str(tail) and tail[-1] == rating


def test_long_answer_splits_on_lines_below_3000() -> None:
    lines = [f"Line {i}: " + "word " * 20 for i in range(300)]  # about 33,000 characters
    sections = texts(answer_blocks(Reply(text="\n".join(lines))))
    assert len(sections) > 10
    assert all(0 < len(s) <= 3000 for s in sections)
    # nothing lost, every cut on a line end (a line's trailing spaces are not content in Markdown)
    assert "\n".join(sections) == "\n".join(line.rstrip() for line in lines)


def test_one_huge_line_is_cut_on_words() -> None:
    sections = texts(answer_blocks(Reply(text="abcdefgh " * 1000)))
    assert all(len(s) <= 3000 for s in sections)
    assert all(set(s.split()) == {"abcdefgh"} for s in sections)


def test_code_block_cut_in_two_is_closed_and_reopened() -> None:
    code = "\n".join(f"x = {i}  # " + "c" * 40 for i in range(150))
    sections = texts(answer_blocks(Reply(text=f"Code:\n```\n{code}\n```\nDone")))
    assert len(sections) >= 3
    assert all(s.count("```") == 2 for s in sections[:-1])
    assert all(len(s) <= 3000 for s in sections)
    assert sections[1].startswith("```\nx = ")


def test_block_cap_of_50() -> None:
    text = "\n\n".join("para " * 590 for _ in range(80))  # 80 paragraphs of ~2950 characters
    reply = Reply(text=text, citations=[cite(1)], actions=[Action("helpful", "Helpful")], notice="Note")
    blocks = answer_blocks(reply)
    assert len(blocks) == 50
    assert blocks[0]["type"] == "context"
    assert blocks[-1]["type"] == "actions"
    assert blocks[-2] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "_…the rest did not fit in one Slack message._"}]}


def test_at_most_25_buttons() -> None:
    reply = Reply(text="Many", actions=[Action("lesson", f"L{i}", str(i)) for i in range(30)])
    assert len(answer_blocks(reply)[-1]["elements"]) == 25


# --- placeholder_blocks --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("partial", "expected"), [
    ("The **first st", "The **first st"),
    ("A [link](https://x.exa", "A [link](https://x.exa"),
    ("Code:\n```py\nprint(1", "Code:\n```\nprint(1\n```"),
    ("**Done** so far", "*Done* so far"),
    ("", "…"),
])
def test_placeholder(partial: str, expected: str) -> None:
    assert placeholder_blocks(partial) == [{"type": "section", "text": {"type": "mrkdwn", "text": expected}}]


def test_long_placeholder_stays_in_one_section() -> None:
    [block] = placeholder_blocks("line of text\n" * 400)
    assert len(block["text"]["text"]) <= 3000
    assert block["text"]["text"].endswith("\n…")


# --- fallback_text -------------------------------------------------------------------------------------------------

def test_fallback_strips_markdown() -> None:
    markdown = ("# Steps\n\n**Badge** first, then *the form* [1].\n- see [guide](https://x.example)\n"
                "> quoted ~~old~~\n```python\nrun(a_b)\n```\n`code` & more")
    assert fallback_text(Reply(text=markdown)) == (
        "Steps\n\nBadge first, then the form [1].\n• see guide\nquoted old\nrun(a_b)\ncode &amp; more")


def test_fallback_is_cut_on_a_word() -> None:
    text = fallback_text(Reply(text="word " * 1000))
    assert len(text) <= 3000
    assert text.endswith("word…")


def test_short_fallback_is_whole() -> None:
    assert fallback_text(Reply(text="All good.")) == "All good."


# --- plain_text ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("slack", "expected"), [
    ("<@UBOT> how do I get a badge?", "how do I get a badge?"),
    ("<@UBOT|coach>   hi", "hi"),
    ("ask <@U123> or <@U456|anna>", "ask <@U123> or <@U456>"),
    ("read <https://x.y/a?b=1&amp;c=2|the guide>", "read the guide (https://x.y/a?b=1&c=2)"),
    ("read <https://x.y>", "read https://x.y"),
    ("read <https://x.y|x.y>", "read https://x.y"),
    ("mail <mailto:a@b.c|a@b.c>", "mail a@b.c"),
    ("in <#C123|general>", "in #general"),
    ("<!here> <!channel> <!everyone> hello", "hello"),
    ("ping <!subteam^S123|@team>", "ping @team"),
    ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
    ("literal &amp;lt;", "literal &lt;"),
    ("  many\n\nlines\t here ", "many lines here"),
    ("", ""),
])
def test_plain_text(slack: str, expected: str) -> None:
    assert plain_text(slack, "UBOT") == expected


def test_plain_text_without_bot_id_keeps_mentions() -> None:
    assert plain_text("<@UBOT> hi") == "<@UBOT> hi"


def test_long_labels_are_shortened_at_a_word_with_an_ellipsis():
    from kernel.text import shorten

    label = "Start: What to claim when a meal is provided during a business trip abroad for a client visit"
    short = shorten(label, 75)
    assert len(short) <= 75 and short.endswith("…") and label.startswith(short[:-1])
    assert label[len(short) - 1] == " "  # cut where a word ends, never mid-word
    assert shorten("Helpful", 75) == "Helpful"
    assert shorten("x" * 100, 75) == "x" * 74 + "…"  # one long word: cut, still marked


# --- Markdown from the parser's tokens: tables, quotes, lists, lessons -----------------------------------------------

def shown_texts(blocks: list[dict]) -> list[str]:
    """Every piece of text a learner reads in the blocks: sections and contexts (mrkdwn, links `<url|label>` read as
    their label), and each table cell's rich text."""
    out = []
    for block in blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
        elif block["type"] == "table":
            out += ["".join(e.get("text", "") for section in cell["elements"] for e in section["elements"])
                    for row in block["rows"] for cell in row]
    return [re.sub(r"<[^<>|]+\|([^<>]*)>", r"\1", text) for text in out]


def cell_texts(table: dict) -> list[list[str]]:
    return [["".join(e.get("text", "") for e in cell["elements"][0]["elements"]) for cell in row]
            for row in table["rows"]]


def assert_slack_takes(blocks: list[dict]) -> None:
    """What slack_sdk's block models and Slack's published limits allow: each block parses into its model and back
    unchanged (validating it), rich_text cells included; at most 50 blocks, one table of at most 100 rows of at most
    20 cells (every row as wide), 10,000 characters across its cells, sections of at most 3000 characters."""
    from slack_sdk.models.blocks import Block, RichTextBlock

    assert 0 < len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block, block["type"]
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
    tables = [b for b in blocks if b["type"] == "table"]
    assert len(tables) <= 1
    for table in tables:
        assert 0 < len(table["rows"]) <= 100 and len(table["column_settings"]) <= 20
        assert len({len(row) for row in table["rows"]}) == 1 and len(table["rows"][0]) <= 20
        for row in table["rows"]:
            for cell in row:
                assert cell["type"] == "rich_text" and RichTextBlock(**cell).to_dict() == cell
                assert all(e.get("text") for e in cell["elements"][0]["elements"])  # Slack wants text in a cell
        assert sum(len(t) for row in cell_texts(table) for t in row) <= 10_000


def test_an_answer_with_a_table_quote_and_list_shows_no_raw_markdown() -> None:
    from tests.unit.rendering_samples import answer, raw_markdown

    blocks = answer_blocks(answer())
    assert_slack_takes(blocks)
    [table] = [b for b in blocks if b["type"] == "table"]
    assert cell_texts(table) == [["Country", "Vehicle", "Rate"],
                                 ["Netherlands", "Car, motorbike or bicycle", "EUR 0.23 per km [2]"],
                                 ["Belgium", "–", "EUR 0.15 per km"]]
    header = [cell["elements"][0]["elements"] for cell in table["rows"][0]]
    assert all(e["style"] == {"bold": True} for elements in header for e in elements)
    vehicle = table["rows"][1][1]["elements"][0]["elements"]
    assert vehicle[1] == {"type": "text", "text": "motorbike", "style": {"italic": True}}
    cited = table["rows"][1][2]["elements"][0]["elements"][-1]
    assert cited == {"type": "link", "url": "https://lms.example.com/rates", "text": "[2]"}  # the marker stays linked
    assert [c.get("align") for c in table["column_settings"]] == [None, "center", "right"]
    before, after = texts(blocks[:blocks.index(table)]), texts(blocks[blocks.index(table) + 1:])
    assert before == ["From the learning content:\n\n> Employees who use their own vehicle for work trips get "
                      "*EUR 0.23* per km. <https://lms.example.com/travel|[1]>"]
    assert after[0] == ("<https://lms.example.com/rates|[2]>\n\nWhat to keep in mind:\n\n"
                        "• claim *within 30 days* <https://lms.example.com/travel|[1]>\n• keep the receipts")
    for text in shown_texts(blocks):
        assert raw_markdown(text) == [], text
    fallback = fallback_text(answer())
    assert raw_markdown(fallback) == [] and "• Country: Netherlands · Vehicle: Car, motorbike or bicycle" in fallback


def test_only_the_first_table_is_a_table_block_the_next_reads_as_header_value_lines() -> None:
    markdown = ("| A | B |\n| --- | --- |\n| 1 | 2 |\n\nAnd:\n\n"
                "| Item | Cost |\n| --- | --- |\n| Lunch | **12** |\n| Tea |  |")
    blocks = answer_blocks(Reply(text=markdown))
    assert_slack_takes(blocks)
    assert [b["type"] for b in blocks] == ["table", "section"]
    assert texts(blocks) == ["And:\n\n• *Item*: Lunch · *Cost*: *12*\n• *Item*: Tea"]
    assert to_mrkdwn(markdown).startswith("• *A*: 1 · *B*: 2\n\nAnd:")  # text alone (Home tab, edits): all lines


def test_a_table_slack_would_refuse_is_written_as_lines() -> None:
    long = "| N | Value |\n| --- | --- |\n" + "\n".join(f"| {i} | v{i} |" for i in range(100))  # 101 rows
    wide = "| " + " | ".join(f"c{i}" for i in range(21)) + " |\n|" + " --- |" * 21 + "\n|" + " x |" * 21
    for markdown in (long, wide):
        blocks = answer_blocks(Reply(text=markdown))
        assert_slack_takes(blocks)
        assert "table" not in [b["type"] for b in blocks]
    assert texts(answer_blocks(Reply(text=long)))[0].startswith("• *N*: 0 · *Value*: v0\n• *N*: 1 · *Value*: v1")


def test_a_lesson_from_the_core_renders_a_table_block_and_one_button_per_option(rig, tmp_path) -> None:
    from tests.unit.rendering_samples import LESSON_KEY, lesson, raw_markdown

    reply = lesson(rig, tmp_path)
    assert "| --- |" in reply.text and "- **A.** EUR 0.23" in reply.text  # what the core writes
    blocks = answer_blocks(reply)
    assert_slack_takes(blocks)
    [table] = [b for b in blocks if b["type"] == "table"]
    assert cell_texts(table) == [["Country", "Rate"], ["Netherlands", "EUR 0.23 per km"],
                                 ["Belgium", "EUR 0.15 per km"]]
    quiz = texts(blocks)[-1]
    assert "*Quick check:* What do you get per km in the Netherlands?\n• *A.* EUR 0.23\n• *B.* EUR 0.15" in quiz
    [buttons] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in buttons["elements"]] == [
        ("A. EUR 0.23", f"{LESSON_KEY}:0"), ("B. EUR 0.15", f"{LESSON_KEY}:1"), ("C. Nothing", f"{LESSON_KEY}:2")]
    assert [button_action(e) for e in buttons["elements"]] == [("answer", f"{LESSON_KEY}:{i}") for i in range(3)]
    for text in shown_texts(blocks) + [fallback_text(reply)]:
        assert raw_markdown(text) == [], text
