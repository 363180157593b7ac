"""The checks a model's answer passes before a learner sees it (coach/answer_checks.py), on their own."""

from __future__ import annotations

import pytest

from coach import answer_checks
from coach.answer_checks import problem
from tests.fakes.retriever import embed, passage

MILEAGE = passage("Mileage is reimbursed at EUR 0.23 per kilometre, up to 1,200 km a month. Claims go in Workday "
                  "within 30 days of the trip.", title="Expenses and travel policy")
RULES = ("You are the learning coach of Northwind. You answer employees' workplace questions using ONLY the "
         "numbered passages from the company's learning content below.\nRules:\n- Every statement must come from a "
         "passage; cite it right after the statement as [n], with n the passage number.")


def check(text: str, *, question: str = "What is the mileage rate?", finish_reason: str = "stop") -> str | None:
    return problem(text, rules=RULES, passages=[MILEAGE], cited=[1], question=question,
                   finish_reason=finish_reason, embed=embed, support=0.3)


def test_an_answer_from_the_passage_passes():
    assert check("Mileage is reimbursed at EUR 0.23 per kilometre [1].") is None


@pytest.mark.parametrize("written", ["0,23", "0.23", "1.200", "1,200", "30", "1200"])
def test_a_number_is_the_same_number_in_dutch_or_english_notation(written):
    assert answer_checks._numbers(f"about {written} [1]") & answer_checks._numbers(MILEAGE.text)


@pytest.mark.parametrize("text", [
    "Mileage is reimbursed at EUR 0.25 per kilometre [1].",
    "Mileage is reimbursed at EUR 0.23 per kilometre, up to 1,500 km a month [1].",
    "Claims go in Workday within 60 days of the trip [1].",
])
def test_a_number_the_passages_do_not_have_fails(text):
    assert check(text) == "numbers"


def test_numbers_from_the_question_and_small_counts_are_allowed():
    assert check("Claims for a 2027 trip go in Workday within 30 days, in 2 steps [1].",
                 question="How do I claim a trip in 2027?") is None


def test_citation_markers_are_not_numbers():
    assert answer_checks._numbers("Mileage is reimbursed [1] [12].") == set()


def test_the_prompt_echoed_back_fails():
    assert check(RULES + " [1]") == "echo"
    assert check("Mileage [1]\n<passage>\nMileage is reimbursed") == "echo"


def test_a_cut_off_or_overlong_answer_fails():
    assert check("Mileage is reimbursed at EUR 0.23 per", finish_reason="length") == "too_long"
    assert check("Mileage is reimbursed at EUR 0.23 per kilometre [1]. " * 40) == "too_long"


def test_sentences_the_passage_does_not_support_fail():
    assert check("Mileage is reimbursed at EUR 0.23 per kilometre [1]. The canteen serves lasagne on Fridays for "
                 "everyone [1].") == "unsupported"


def test_short_sentences_are_not_checked_for_support():
    assert answer_checks.sentences("Yes. Mileage is reimbursed per kilometre [1].") == \
        ["Mileage is reimbursed per kilometre."]
