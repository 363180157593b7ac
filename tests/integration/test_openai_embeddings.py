"""With EMBEDDINGS_BASE_URL set, chunks and queries are embedded by an OpenAI-compatible endpoint."""

from __future__ import annotations

from coach.bootstrap import bootstrap
from tests.conftest import make_settings, write_content
from tests.fakes.openai_api import FakeOpenAI


def test_openai_compatible_embeddings_and_switching_to_them_re_embeds(tmp_path, embedder):
    content = write_content(tmp_path / "content")
    local = bootstrap(make_settings(tmp_path), embedder=embedder).knowledge
    local.ingest([content])

    with FakeOpenAI() as api:
        api.fail_next = [503]  # a passing outage is retried by the client
        settings = make_settings(tmp_path, EMBEDDINGS_BASE_URL=api.base_url, EMBEDDINGS_API_KEY="sk-test",
                                 EMBEDDINGS_MODEL="embed-small")
        kb = bootstrap(settings).knowledge
        assert kb.ingestor.embedder.name == "openai:embed-small"
        result = kb.sync_vectors()
        assert result["embedded"] == len(kb.ingestor.vectors.all_ids()) > 0

        top = kb.search("book a course with the training budget portal")[0]
        assert top.title == "Training budget"
        calls = [r for r in api.requests if r["path"] == "/v1/embeddings"]
        assert all(r["authorization"] == "Bearer sk-test" and r["body"]["model"] == "embed-small" for r in calls)
        assert any("portal" in " ".join(r["body"]["input"]) for r in calls)  # the query itself went to the endpoint
        assert calls[0]["body"]["input"] == calls[1]["body"]["input"]  # the 503 was retried with the same batch
