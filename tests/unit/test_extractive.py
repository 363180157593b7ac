from datetime import UTC, datetime

import numpy as np

from coach.abstention import FEATURES, AbstentionModel, features, fit
from coach.extractive import choose, score_sentences, sentences_of
from kernel.ports import Passage


def passage(text, score=1.0, n=0, dense=0.6, keyword=3.0):
    return Passage(chunk_id=f"c{n}", source_id=f"s{n}", source_key=f"k{n}", title=f"Doc {n}", doc_type="pdf",
                   text=text, locator={"page": 1}, where="p. 1", link="", updated_at=datetime.now(UTC),
                   audience=("everyone",), score=score, dense=dense, keyword=keyword)


POLICY = """Hotels in London are capped at GBP 190 per night. Book through the travel desk
so the company is invoiced directly.
Can I stay with friends instead?
1. Open Loom Learn and go to My budget.
2. Add the provider and the cost.
• No hotel costs are reimbursed unless the hotel was pre-approved in writing by the budget
holder before booking.
• Contractors receive no per diems."""


def test_quotable_units_join_wrapped_lines_keep_steps_together_and_skip_questions():
    units = sentences_of(passage(POLICY))
    assert units == [
        "Hotels in London are capped at GBP 190 per night.",
        "Book through the travel desk so the company is invoiced directly.",
        "Open Loom Learn and go to My budget.; Add the provider and the cost.",
        "No hotel costs are reimbursed unless the hotel was pre-approved in writing by the budget holder before booking.",
        "Contractors receive no per diems.",
    ]


def bag_of_words(texts):
    vocabulary = sorted({w for t in texts for w in t.lower().split()})
    rows = np.array([[t.lower().split().count(w) for w in vocabulary] for t in texts], dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_sentence_that_speaks_to_the_question_is_quoted_first():
    ranked = score_sentences("hotels london per night cap", [passage(POLICY)], bag_of_words)
    assert ranked[0].text.startswith("Hotels in London")
    chosen = choose(ranked, limit=2, within=1.0)
    assert len(chosen) == 2 and chosen[0] is ranked[0]


def test_abstention_model_fits_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{name: float(v) for name, v in zip(FEATURES, rng.normal(size=len(FEATURES)) + (1.0 if i % 2 else -1.0))}
            for i in range(200)]
    labels = [bool(i % 2) for i in range(200)]
    weights, bias = fit(rows, labels)
    model = AbstentionModel(weights, bias)
    assert sum(model.answers(r) == l for r, l in zip(rows, labels)) / 200 > 0.9
    model.save(tmp_path / "m.json", note="test")
    assert AbstentionModel.load(tmp_path / "m.json") == model


def test_features_of_an_empty_retrieval_are_zero():
    assert features("anything", [], []) == {name: 0.0 for name in FEATURES}
    values = features("hotel cap london", [passage(POLICY, dense=0.7, keyword=5.0)], [])
    assert values["dense"] == 0.7 and values["coverage"] == 1.0 and values["keyword"] > 0


def test_a_sentence_cut_by_a_chunk_boundary_is_quoted_once_in_full():
    full = "No hotel costs are reimbursed unless the hotel was pre-approved in writing by the budget holder."
    cut = "No hotel costs are reimbursed unless the hotel was pre-approved in writing by the budget"
    ranked = score_sentences("hotel costs reimbursed pre-approved",
                             [passage(cut, n=0), passage(full + " Other text follows here, unrelated.", n=1)],
                             bag_of_words)
    chosen = choose(ranked, within=1.0)
    assert [c.text for c in chosen if c.text.startswith("No hotel")] == [full]


def test_each_embedding_model_gets_the_abstention_model_fitted_for_it(caplog):
    from coach.abstention import MODEL_FILE, model_file

    default = AbstentionModel.load()
    assert model_file(default.embedder) == MODEL_FILE
    assert model_file("some-other-model") == MODEL_FILE.with_name("abstention.some-other-model.json")
    with caplog.at_level("WARNING"):
        assert AbstentionModel.for_embedder("some-other-model") == default  # none fitted yet: said, not silent
    assert "no abstention model is calibrated for the embedding model some-other-model" in caplog.text
    for fitted in MODEL_FILE.parent.glob("abstention.*.json"):  # every shipped one names the model it was fitted for
        embedder = fitted.name.removeprefix("abstention.").removesuffix(".json")
        assert AbstentionModel.for_embedder(embedder).embedder == embedder
