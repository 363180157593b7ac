"""The multilingual embedding model (COACH_EMBEDDING_MODEL=e5, the packaged multilingual-e5-small): a Dutch question
finds the English passage that answers it, where the English-only model does not; queries and passages get e5's own
forms."""

from __future__ import annotations

import numpy as np
import pytest

from coach.bootstrap import bootstrap, build_embedder
from knowledge.embeddings import E5Embedder
from tests.conftest import make_settings

POLICIES = {
    "Mileage": "Business trips in your own car are reimbursed at 0.23 euros per kilometre driven.",
    "Parental leave": "After the birth or adoption of a child, parents take up to 26 weeks of leave at 70% pay.",
    "Password reset": "Forgot your password? Reset it yourself at id.example.com with your authenticator app.",
    "Working from home": "You may work from home up to three days a week, agreed with your team lead.",
    "Holidays": "Request your days off in the HR portal at least two weeks ahead; your manager approves them.",
    "Broken laptop": "A laptop that stops working is swapped at the IT desk on the second floor the same day.",
}
DUTCH = {"Hoeveel krijg ik terug per gereden kilometer?": "Mileage",
         "Hoe lang mag ik thuisblijven na de geboorte van mijn kind?": "Parental leave",
         "Wat moet ik doen als ik mijn wachtwoord vergeten ben?": "Password reset",
         "Hoeveel dagen per week mag ik thuiswerken?": "Working from home",
         "Waar vraag ik vrije dagen aan?": "Holidays",
         "Mijn laptop doet het niet meer, wat nu?": "Broken laptop"}


@pytest.fixture(scope="module")
def e5():
    return E5Embedder(threads=1)


def test_the_setting_picks_the_multilingual_model(tmp_path):
    assert isinstance(build_embedder(make_settings(tmp_path, COACH_EMBEDDING_MODEL="e5")), E5Embedder)


def test_queries_and_passages_get_their_own_forms(e5):
    text = "How do I report phishing?"
    query, passage = e5.embed_query(text), e5.embed_passages([text])[0]
    assert query.shape == passage.shape == (384,)
    assert np.isclose(np.linalg.norm(query), 1.0) and not np.allclose(query, passage)


def test_dutch_questions_find_english_content_the_english_only_model_misses(tmp_path, e5, embedder):
    content = tmp_path / "content"
    content.mkdir()
    for title, text in POLICIES.items():
        (content / f"{title.lower().replace(' ', '-')}.md").write_text(f"# {title}\n{text}\n")
    found = {}
    for name, model in (("e5", e5), ("minilm", embedder)):
        container = bootstrap(make_settings(tmp_path / name), embedder=model)
        container.knowledge.ingest([content])
        found[name] = {q: container.knowledge.search(q, k=1, mode="dense")[0].title for q in DUTCH}
    assert found["e5"] == DUTCH
    missed = [q for q, title in DUTCH.items() if found["minilm"][q] != title]
    assert len(missed) >= 2, found["minilm"]  # why the multilingual model exists


def test_a_mixed_base_stems_each_chunk_in_its_language_and_the_question_in_both(tmp_path, embedder):
    from sqlmodel import select

    from kernel.store import session
    from knowledge.models import Chunk

    content = tmp_path / "content"
    content.mkdir()
    (content / "thuiswerken.md").write_text("# Thuiswerken\nJe mag drie dagen per week thuiswerken. Vergoedingen "
                                            "voor internet en stroom krijg je maandelijks bij je salaris.\n")
    (content / "expenses.md").write_text("# Expense claims\nSubmit your travel expense claims within thirty days; "
                                         "your manager approves the claims.\n")
    container = bootstrap(make_settings(tmp_path), embedder=embedder)
    container.knowledge.ingest([content])
    with session(container.engine) as db:
        languages = {c.source_id: c.language for c in db.exec(select(Chunk)).all()}
    by_title = {s.title: languages[s.id] for s in container.knowledge.sources()}
    assert by_title == {"Thuiswerken": "nl", "Expense claims": "en"}
    # "vergoeding" / "vergoedingen" and "thuiswerk" / "thuiswerken" share only their Dutch stems (English stemming
    # leaves them apart); "claim" / "claims" their English one
    [dutch] = container.knowledge.search("Is er een vergoeding als ik thuiswerk?", k=1, mode="keyword")
    [english] = container.knowledge.search("Who approves my claim?", k=1, mode="keyword")
    assert (dutch.title, english.title) == ("Thuiswerken", "Expense claims")
