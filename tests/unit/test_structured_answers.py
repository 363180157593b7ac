"""Answers keep the content's structure: an FAQ's answer found by its question, a table quoted as a table with its
header, every listed source cited, and the part of a question the content does not mention said plainly."""

from __future__ import annotations

from dataclasses import replace

from coach.abstention import AbstentionModel
from coach.answering import Answerer, extractive_reply
from coach.coverage import not_covered
from coach.extractive import choose, quoted_table, score_sentences, units_of
from coach.messages import IncomingMessage
from coach.conversation import Turn
from tests.fakes.retriever import FakeRetriever, embed, passage

MILEAGE = passage(
    "If you use your own vehicle for business travel, you can claim a mileage allowance instead of fuel costs.\n\n"
    "| Country | Vehicle | Rate |\n| --- | --- | --- |\n"
    "| Netherlands | Car, motorbike or bicycle | EUR 0.23 per km |\n"
    "| United Kingdom | Car or van, first 10,000 business miles | 45p per mile |\n"
    "| United Kingdom | Bicycle | 20p per mile |", title="Expenses and travel policy", where="p. 3")
FAQ = passage(
    "Q5. What is the mileage rate?\nA. In the Netherlands EUR 0.23 per km. In the UK 45p per mile for the\n"
    "first 10,000 business miles.\n\nQ6. Can I fly business class?\nA. No. Flights under 6 hours are economy "
    "class.", title="Expenses FAQ")
HOTELS = passage("The caps below are per night.\n\n| City | Cap per night |\n| --- | --- |\n" + "\n".join(
    f"| {city} | EUR {100 + i * 10} |" for i, city in enumerate(
        ["Rotterdam", "Amsterdam", "Utrecht", "Leeds", "London", "Paris", "Milan", "Brussels"])),
    title="Expenses and travel policy", where="p. 4")


def test_a_table_is_read_row_by_row_with_its_header_and_quoted_whole_when_short():
    rows = [u for u in units_of(MILEAGE) if u.table is not None]
    assert [u.text for u in rows][0] == "Country: Netherlands; Vehicle: Car, motorbike or bicycle; Rate: EUR 0.23 per km"
    assert rows[0].scored.startswith("If you use your own vehicle")  # scored with its lead-in
    ranked = score_sentences("what is the mileage rate in the Netherlands", [MILEAGE], embed)
    table_rows = [s for s in choose(ranked, within=1.0) if s.table is not None]
    assert quoted_table(table_rows, "mileage rate") == (
        "| Country | Vehicle | Rate |\n| --- | --- | --- |\n| Netherlands | Car, motorbike or bicycle | EUR 0.23 per km |\n"
        "| United Kingdom | Car or van, first 10,000 business miles | 45p per mile |\n"
        "| United Kingdom | Bicycle | 20p per mile |")


def test_a_long_table_is_quoted_as_its_header_and_the_rows_the_question_names():
    ranked = score_sentences("hotel cap per night in London", [HOTELS], embed)
    rows = [s for s in choose(ranked) if s.table is not None]
    quoted = quoted_table(rows, "hotel cap per night in London")
    assert quoted.splitlines()[:2] == ["| City | Cap per night |", "| --- | --- |"]
    assert "| London | EUR 140 |" in quoted and "Paris" not in quoted and "Rotterdam" not in quoted


def test_an_faq_answer_is_scored_with_the_question_it_answers_and_the_marks_are_dropped():
    units = units_of(FAQ)
    assert units[0].text == "In the Netherlands EUR 0.23 per km."
    assert units[0].scored == "What is the mileage rate? In the Netherlands EUR 0.23 per km."
    assert units[1].text == "In the UK 45p per mile for the first 10,000 business miles." == units[1].scored
    flights = next(u for u in units if u.text.startswith("Flights"))
    assert flights.scored.startswith("Can I fly business class?")
    assert all(not u.text.startswith(("Q5", "A.")) for u in units)


def test_a_title_line_over_a_paragraph_scores_with_it():
    note = passage("How to report phishing\n\nForward suspicious e-mails to security within one hour.",
                   title="security")
    assert units_of(note)[0].scored == "How to report phishing Forward suspicious e-mails to security within one hour."


ALWAYS = AbstentionModel(weights={}, bias=0.0, threshold=0.0)  # answers everything: the quoting is under test


def answerer(*passages):
    return Answerer(retriever=FakeRetriever(list(passages)), embed=embed, abstention=ALWAYS,
                    groups_of=lambda learner: [])


def test_the_faq_answer_is_quoted_and_only_cited_sources_are_listed():
    decision = answerer(MILEAGE, FAQ).decide(IncomingMessage(learner_id="l", text="what is the mileage rate?"))
    reply = extractive_reply(decision)
    assert "> In the Netherlands EUR 0.23 per km." in reply.text
    assert reply.citations and all(f"[{c.n}]" in reply.text for c in reply.citations)  # every source shown is cited
    table = extractive_reply(answerer(MILEAGE).decide(IncomingMessage(learner_id="l", text="mileage rate bicycle")))
    assert "Expenses and travel policy [1]:\n\n| Country | Vehicle | Rate |\n| --- | --- | --- |\n" in table.text


def test_two_chunks_of_one_place_are_one_source():
    other_chunk = replace(MILEAGE, chunk_id="policy#1", text="The mileage rate covers fuel, wear and insurance.")
    decision = answerer(MILEAGE, other_chunk).decide(IncomingMessage(learner_id="l", text="mileage rate fuel"))
    reply = extractive_reply(decision)
    assert len(reply.citations) == 1 and "[2]" not in reply.text


def test_what_the_question_names_and_the_content_does_not_mention_is_said_and_logged():
    follow_up = IncomingMessage(learner_id="l", text="and for electric cars?",
                                history=(Turn("learner", "what is the mileage rate?"), Turn("coach", "…")))
    decision, reply = answerer(MILEAGE, FAQ).answer(follow_up)
    assert not reply.abstained and decision.not_covered == ["electric cars"]
    assert reply.text.startswith("The learning content does not mention *electric cars*")
    assert "| Netherlands | Car, motorbike or bicycle | EUR 0.23 per km |" in reply.text


def test_words_the_quoted_passages_or_the_base_hold_are_covered():
    nothing_else = lambda words: set()  # noqa: E731
    assert not_covered("what is the mileage rate?", [MILEAGE], nothing_else) == []
    assert not_covered("what is the milage rate for a bicycle?", [MILEAGE], nothing_else) == []  # misspelt
    dutch = passage("Met de auto of fiets: EUR 0,23 per kilometer.", title="Reiskosten", language="nl")
    assert not_covered("en voor elektrische auto's?", [dutch], nothing_else) == ["elektrische auto's"]
    assert not_covered("mileage for a Tesla or a scooter?", [MILEAGE], nothing_else) == ["Tesla"]  # a name
    assert not_covered("mileage rate for a client visit?", [MILEAGE], nothing_else) == []  # said differently
    # a word the base mentions elsewhere is most likely said differently here: not claimed missing
    assert not_covered("mileage for a scooter?", [MILEAGE], lambda words: {"scooter"}) == []


def test_a_word_only_restricted_content_holds_is_not_covered_for_others():
    secret = passage("Scooter leasing for managers.", title="Lease", audience=("managers",))
    retriever = FakeRetriever([MILEAGE, secret])
    assert retriever.mentions(["scooter"], groups=[]) == set()
    assert retriever.mentions(["scooter"], groups=["managers"]) == {"scooter"}


def test_a_numbered_heading_over_a_quoted_table_is_a_caption_not_a_list():
    from connectors.markdown import parse

    numbered = replace(MILEAGE, locator={"heading": ["5. Mileage"]})
    reply = extractive_reply(answerer(numbered).decide(IncomingMessage(learner_id="l", text="mileage rate bicycle")))
    assert "5\\. Mileage [1]:" in reply.text
    assert "ordered_list_open" not in [t.type for t in parse(reply.text)]
