"""The knowledge base end to end at its port: real database (SQLite and PostgreSQL), real Chroma, real model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import select

from coach.bootstrap import bootstrap
from kernel.errors import ConfigError
from kernel.store import session
from knowledge.metadata import SourceMeta
from knowledge.models import Chunk, Source
from tests.conftest import BUDGET, HashingEmbedder, make_settings, write_content

def state(kb) -> dict:
    """Everything a learner could be shown, and every vector: to prove a failure changed nothing."""
    with session(kb.engine) as db:
        chunks = sorted((c.id, c.source_id, c.text, tuple(c.audience)) for c in db.exec(select(Chunk)).all())
        sources = sorted((s.key, s.content_hash, tuple(s.audience)) for s in db.exec(select(Source)).all())
    return {"chunks": chunks, "sources": sources, "vectors": kb.ingestor.vectors.all_ids()}


def test_ingest_search_update_remove(tmp_path, embedder, database_url):
    kb = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url), embedder=embedder).knowledge
    content = write_content(tmp_path / "content")

    report = kb.ingest([content])
    assert report.summary() == {"added": 3, "updated": 0, "unchanged": 0, "failed": 0}
    titles = {s.title: s for s in kb.sources()}
    assert set(titles) == {"Training budget", "How to report phishing", "Salary review"}
    assert titles["Salary review"].audience == ["managers"] and titles["Salary review"].owner == "reward@example.com"

    top = kb.search("how do I book a course with the training budget?")[0]
    assert top.title == "Training budget" and "portal" in top.text and top.where == "Booking"
    assert kb.ingest([content]).summary()["unchanged"] == 3

    before = state(kb)
    (content / "hr" / "budget.md").write_text(BUDGET.replace("1,200", "1,500"))
    assert kb.ingest([content]).summary() == {"added": 0, "updated": 1, "unchanged": 2, "failed": 0}
    after = state(kb)
    # only the edited chunk got a new id; the unchanged heading section kept its id (and its vector)
    assert len(set(c[0] for c in before["chunks"]) - set(c[0] for c in after["chunks"])) == 1
    assert after["vectors"] == {c[0] for c in after["chunks"]}
    assert "1,500" in kb.search("training budget per year")[0].text

    removed = kb.remove([str(content / "security.txt")])
    assert [s.title for s in removed] == ["How to report phishing"]
    assert all(p.title != "How to report phishing" for p in kb.search("report phishing e-mail", k=10))
    assert state(kb)["vectors"] == {c[0] for c in state(kb)["chunks"]}


def test_audience_from_command_line_and_sidecar(container, tmp_path):
    kb = container.knowledge
    content = write_content(tmp_path / "content")
    kb.ingest([content], SourceMeta(audience=("everyone",), competencies=("hr",)))
    by_title = {s.title: s for s in kb.sources()}
    assert by_title["Salary review"].audience == ["managers"]  # the sidecar wins: never widened by a flag
    assert by_title["Training budget"].competencies == ["hr"]
    assert all("3.5" not in p.text for p in kb.search("merit budget salary review", k=10))
    assert "3.5" in kb.search("merit budget salary review", groups=["managers"])[0].text


def bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", "<manifest/>")
        z.writestr("big.html", b"\0" * (300 * 1024 * 1024))
    return path


def traversal(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("imsmanifest.xml", "<manifest/>")
        z.writestr("../../etc/evil.html", "<p>hi</p>")
    return path


def test_bad_files_are_reported_and_change_nothing(container, tmp_path):
    kb = container.knowledge
    content = write_content(tmp_path / "content")
    kb.ingest([content])
    before = state(kb)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (bad / "fake.docx").write_bytes(b"this is not a zip")
    (bad / "empty.md").write_text("   \n")
    (bad / "tool.exe").write_bytes(b"MZ\x90\x00")
    (bad / "huge.txt").write_text("words " * 400_000)  # 2.4 MB, over the 1 MB limit below
    bomb(bad / "bomb.zip")
    traversal(bad / "traversal.zip")
    small = bootstrap(make_settings(tmp_path, COACH_MAX_UPLOAD_MB=1), embedder=kb.ingestor.embedder).knowledge
    report = small.ingest([bad])

    reasons = {Path(o.path).name: o.reason for o in report.outcomes}
    assert report.summary()["failed"] == 7 and report.summary()["added"] == 0
    assert "PDF" in reasons["broken.pdf"]
    assert "not supported" in reasons["tool.exe"]
    assert "limit" in reasons["huge.txt"] and "COACH_MAX_UPLOAD_MB" in reasons["huge.txt"]
    assert reasons["empty.md"]
    assert reasons["fake.docx"]
    assert "zip bomb" in reasons["bomb.zip"]
    assert ".." in reasons["traversal.zip"] or "traversal" in reasons["traversal.zip"].lower()
    assert state(kb) == before


def test_a_corrupt_new_version_keeps_the_old_one(container, tmp_path):
    kb = container.knowledge
    path = tmp_path / "policy.pdf"
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Mileage is reimbursed at 0.23 euro per kilometre.")
    pdf.output(str(path))
    kb.ingest([path])
    before = state(kb)
    path.write_bytes(path.read_bytes()[:200])  # truncated upload
    outcome = kb.ingest([path]).outcomes[0]
    assert outcome.status == "failed" and "PDF" in outcome.reason
    assert state(kb) == before
    assert kb.search("mileage rate")[0].where == "p. 1"


class _SearchingEmbedder:
    """Runs a search while the new version of a source is being embedded: the moment a swap is half done."""

    def __init__(self, inner, probe):
        self.inner, self.name, self.probe, self.seen = inner, inner.name, probe, []

    def embed_passages(self, texts):
        self.seen.append(self.probe())
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def test_replacement_is_atomic_and_a_crash_leaves_the_old_version(container, tmp_path):
    kb = container.knowledge
    path = tmp_path / "guide.md"
    old = "# Guide\n" + "\n\n".join(f"Old rule {n}: claims go to finance within 30 days." for n in range(12))
    path.write_text(old)
    kb.ingest([path])

    def texts():
        return {p.text for p in kb.search("claims finance rule", k=20)}

    probing = _SearchingEmbedder(kb.ingestor.embedder, texts)
    kb.ingestor.embedder = probing
    path.write_text(old.replace("Old", "New").replace("30", "60"))

    def crash(_session):
        raise RuntimeError("power cut")

    event.listen(session(kb.engine).__class__, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError):
            kb.ingest([path])
    finally:
        event.remove(session(kb.engine).__class__, "before_commit", crash)
    # mid-swap and after the crash, learners see the old version only
    assert probing.seen and all(t.startswith("Old") for seen in probing.seen for t in seen)
    assert texts() and all(t.startswith("Old") for t in texts())
    # the new vectors written before the crash are orphans; reconcile removes them
    assert kb.sync_vectors()["orphans_removed"] > 0

    assert kb.ingest([path]).summary()["updated"] == 1
    assert texts() and all(t.startswith("New") for t in texts())


def test_changing_the_embedding_model_re_embeds(tmp_path, embedder):
    settings = make_settings(tmp_path)
    first = bootstrap(settings, embedder=embedder).knowledge
    first.ingest([write_content(tmp_path / "content")])
    chunk_count = len(state(first)["chunks"])

    second = bootstrap(settings, embedder=HashingEmbedder()).knowledge
    assert second.search("training budget", mode="dense") == []  # nothing mixed into the new model's space
    assert second.sync_vectors() == {"embedded": chunk_count, "orphans_removed": 0}
    assert second.search("training budget booking portal", mode="dense")[0].title == "Training budget"
    names = [getattr(c, "name", c) for c in second.ingestor.vectors._client.list_collections()]
    assert sorted(names) == sorted([second.ingestor.vectors.collection.name, second.ingestor.headings.collection.name])


def test_missing_sample_content_is_reported_and_stays_pending(container, tmp_path):
    kb = container.knowledge
    with pytest.raises(ConfigError, match="missing from this install.*COACH_LOAD_SAMPLES=false"):
        kb.load_samples(folder=tmp_path / "not-installed")
    assert kb.samples_pending() and kb.sources() == []  # not recorded as loaded: the next start tries again
    report = kb.load_samples(folder=write_content(tmp_path / "content"))
    assert report.summary()["added"] == 3 and not kb.samples_pending()
