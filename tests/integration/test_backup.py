"""`coach backup` / `coach restore` on the embedded default: a backup made while `coach serve` answers (or while
another container ingests) restores into a fresh folder that answers the same question with the same citations;
damaged, newer or misdirected restores are refused and change nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from coach import backup as service
from coach.bootstrap import bootstrap
from coach.locks import exclusive_data_dir
from coach.messages import IncomingMessage
from connectors.cli.main import app
from kernel.store import session
from knowledge.models import Chunk
from coach.settings import Settings
from tests.conftest import HashingEmbedder, free_port, write_content
from tests.integration.test_serve import stop, wait_ready

QUESTION = "what is the mileage rate?"
runner = CliRunner()


def coach(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def said(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def settings_at(folder: Path) -> Settings:
    return Settings(COACH_DATA_DIR=folder, COACH_LOAD_SAMPLES=False)


def ask(container, question: str) -> dict:
    reply = container.coach.ask(IncomingMessage(learner_id="restored", text=question, channel="web", platform="web"))
    return {"answer": reply.text, "citations": [c.as_json() for c in reply.citations]}


def digest(folder: Path) -> dict[str, str]:
    """Every file's checksum but the (empty) lock files, which a restore takes like any writer."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in service.TRANSIENT}


def consistent(container) -> bool:
    """Every chunk the database holds has its vector, and the index holds nothing else."""
    with session(container.engine) as db:
        chunk_ids = set(db.exec(select(Chunk.id)).all())
    return container.knowledge.ingestor.vectors.all_ids() == chunk_ids


def test_a_backup_made_while_serving_restores_into_a_fresh_folder_and_answers_the_same(tmp_path, monkeypatch,
                                                                                       embedder):
    serving, fresh, archive = tmp_path / "serving", tmp_path / "fresh", tmp_path / "coach-backup.tar.gz"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COACH_")},
           "COACH_DATA_DIR": str(serving), "COACH_EMBEDDING_MODEL": "minilm", "COACH_RUN_WORKER": "false"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(server, port)
        base = f"http://127.0.0.1:{port}"
        before = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=30).json()
        assert before["citations"] and not before["abstained"]
        made = subprocess.run([sys.executable, "-m", "coach", "backup", str(archive)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        assert "Wrote" in made.stdout and "10 sources" in made.stdout and "Writing the archive" in made.stderr
        # the server was neither blocked nor disturbed, and still holds its folder
        again = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=30).json()
        assert (again["answer"], again["citations"]) == (before["answer"], before["citations"])
        monkeypatch.setenv("COACH_DATA_DIR", str(serving))
        busy = coach("restore", str(archive), "--force")
        assert busy.exit_code == 2 and "probably `coach serve`) is using" in said(busy)

        monkeypatch.setenv("COACH_DATA_DIR", str(fresh))
        restored = coach("restore", str(archive))
        assert restored.exit_code == 0, said(restored)
        assert "Restored the backup of" in restored.stdout and "Rebuilt" not in restored.stdout
    finally:
        stop(server)

    manifest = service.read_manifest(archive)
    assert manifest["vectors_consistent"] and manifest["counts"]["rows"]["source"] == 10
    assert manifest["embedding_models"] == [embedder.name] and manifest["schema_revision"]
    assert (fresh / "admin_secret.key").read_bytes() == (serving / "admin_secret.key").read_bytes()
    assert oct((fresh / "admin_secret.key").stat().st_mode & 0o777) == "0o600"
    assert not [p.name for p in fresh.iterdir() if p.name.startswith(".coach-")]  # no staging left behind
    container = bootstrap(settings_at(fresh), embedder=embedder)
    assert consistent(container)
    after = ask(container, QUESTION)
    assert after["citations"] == before["citations"] and after["answer"] == before["answer"]


@pytest.fixture
def backed_up(tmp_path, container) -> Path:
    """A small base (tests/conftest.py's content) backed up through the command, with the index open."""
    container.knowledge.ingest([write_content(tmp_path / "content")])
    archive = tmp_path / "base.tar.gz"
    result = coach("backup", str(archive))
    assert result.exit_code == 0, said(result)
    return archive


def repack(archive: Path, out: Path, *, manifest=lambda m: m, files=lambda name, data: data,
           checksums: bool = False) -> Path:
    """A copy of a backup with its manifest or files changed; `checksums`: the manifest made to match the files."""
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    changed = {m.name: files(m.name, data) for m, data in members[1:]}
    listing = manifest(json.loads(members[0][1]))
    if checksums:
        listing["files"] = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                            for name, data in changed.items()}
    with tarfile.open(out, "w:gz") as tar:
        for member, _ in members:
            data = json.dumps(listing).encode() if member.name == service.MANIFEST else changed[member.name]
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return out


def test_restore_refuses_a_folder_in_use_or_not_empty_and_leaves_it_as_it_was(tmp_path, monkeypatch, backed_up):
    data = tmp_path / "data"
    before = digest(data)
    refused = coach("restore", str(backed_up))
    assert refused.exit_code == 2 and "is not empty" in said(refused) and "--force" in said(refused)
    with exclusive_data_dir(data):  # as `coach serve` holds it
        busy = coach("restore", str(backed_up), "--force")
    assert busy.exit_code == 2 and "stop it before restoring" in said(busy)
    assert digest(data) == before


def test_restore_refuses_a_damaged_file_and_creates_nothing(tmp_path, monkeypatch, backed_up):
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("COACH_DATA_DIR", str(fresh))
    whole = backed_up.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(whole[:4000] + bytes([whole[4000] ^ 0xFF]) + whole[4001:])
    altered = repack(backed_up, tmp_path / "altered.tar.gz",
                     files=lambda name, data: data.replace(b"1,200 euros", b"9,999 euros") if name == "coach.db" else data)
    not_a_backup = tmp_path / "notes.tar.gz"
    with tarfile.open(not_a_backup, "w:gz") as tar:
        tar.add(Path(__file__), arcname="notes.txt")
    for damaged in (cut, flipped, altered, not_a_backup, tmp_path / "missing.tar.gz"):
        result = coach("restore", str(damaged))
        assert result.exit_code == 2, damaged
        assert "nothing was changed" in said(result) or "There is no backup file" in said(result), said(result)
        assert not fresh.exists()
    assert "coach.db does not match its checksum" in said(coach("restore", str(altered)))


def test_restore_refuses_a_backup_from_a_newer_schema(tmp_path, monkeypatch, backed_up):
    newer = repack(backed_up, tmp_path / "newer.tar.gz", manifest=lambda m: {**m, "schema_revision": "9999_later"})
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "fresh"))
    result = coach("restore", str(newer))
    assert result.exit_code == 2 and "schema revision '9999_later', newer than this install" in said(result)
    assert "upgrade the coach" in said(result) and not (tmp_path / "fresh").exists()
    future = repack(backed_up, tmp_path / "future.tar.gz", manifest=lambda m: {**m, "format": service.FORMAT + 1})
    assert "written by a newer version of the coach" in said(coach("restore", str(future)))


def test_an_index_copy_that_is_not_consistent_or_does_not_read_back_is_rebuilt_from_the_database(tmp_path):
    """Over 1,000 entries, so Chroma has written its HNSW files (a smaller index lives in its write log alone)."""
    embedder, content = HashingEmbedder(), tmp_path / "handbook"
    content.mkdir()
    for n in range(40):
        (content / f"part-{n}.md").write_text("\n".join(f"# Part {n} rule {k}\nRule {n}.{k} covers desk {k} in "
                                                         f"room {n}." for k in range(30)))
    original = bootstrap(settings_at(tmp_path / "data"), embedder=embedder)
    original.knowledge.ingest([content])
    found = [p.chunk_id for p in original.knowledge.search("rule covering desk 7 in room 12", k=5)]
    with session(original.engine) as db:
        chunks = len(db.exec(select(Chunk.id)).all())
    sound = tmp_path / "sound.tar.gz"
    service.backup(original.settings, sound)
    unsteady = repack(sound, tmp_path / "unsteady.tar.gz", manifest=lambda m: {**m, "vectors_consistent": False})
    torn = repack(sound, tmp_path / "torn.tar.gz", checksums=True,  # segment files cut short, checksums and all
                  files=lambda name, data: data[: len(data) // 3] if name.endswith("data_level0.bin") else data)
    for archive, why in ((sound, ""), (unsteady, "changed during every try"), (torn, "does not read back")):
        fresh = tmp_path / archive.stem
        restored = service.restore(archive, settings_at(fresh), embedder=embedder)
        assert why in restored.rebuilt and bool(restored.rebuilt) == bool(why)
        assert restored.embedded == (chunks if why else 0)
        again = bootstrap(settings_at(fresh), embedder=embedder)
        assert consistent(again) and [p.chunk_id for p in again.knowledge.search("rule covering desk 7 in room 12",
                                                                                 k=5)] == found
        service.release(again)


def test_force_replaces_a_folder_only_with_a_sound_backup(tmp_path, monkeypatch, backed_up, embedder):
    other = tmp_path / "other"
    monkeypatch.setenv("COACH_DATA_DIR", str(other))
    elsewhere = bootstrap(settings_at(other), embedder=embedder)
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "onboarding.md").write_text("# Onboarding\nYour laptop is ready on your first day.")
    elsewhere.knowledge.ingest([tmp_path / "one"])
    service.release(elsewhere)
    before = digest(other)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(backed_up.read_bytes()[:-200])
    assert coach("restore", str(damaged), "--force").exit_code == 2 and digest(other) == before

    assert coach("restore", str(backed_up), "--force").exit_code == 0
    restored = bootstrap(settings_at(other), embedder=embedder)
    assert sorted(s.title for s in restored.knowledge.sources()) == ["How to report phishing", "Salary review",
                                                                      "Training budget"]
    assert consistent(restored)
    assert ask(restored, "how big is the training budget?")["citations"][0]["title"] == "Training budget"


def test_a_backup_while_content_is_ingested_restores_consistent(tmp_path, container, embedder):
    """Another container writes the index while backups are taken; each restore matches its database."""
    folder = tmp_path / "stream"
    folder.mkdir()
    started, done, backups = threading.Event(), threading.Event(), []

    def ingest() -> None:
        n = 0
        while not done.is_set():
            n += 1
            (folder / f"note-{n}.md").write_text(f"# Note {n}\nThe canteen serves dish number {n} on day {n}.\n"
                                                 f"## Detail\nAsk desk {n % 7} about dish {n}.")
            container.knowledge.ingest([folder / f"note-{n}.md"])
            if n % 5 == 0:
                container.knowledge.remove([str(folder / f"note-{n - 3}.md")])
                started.set()

    writer = threading.Thread(target=ingest)
    with exclusive_data_dir(container.settings.data_dir):
        writer.start()
        try:
            assert started.wait(60)
            for n in range(3):
                time.sleep(0.3)
                backups.append(service.backup(container.settings, tmp_path / f"during-{n}.tar.gz"))
        finally:
            done.set()
            writer.join()
    for n, manifest in enumerate(backups):
        fresh = tmp_path / f"restored-{n}"
        restored = service.restore(tmp_path / f"during-{n}.tar.gz", settings_at(fresh),
                                   embedder=embedder)
        again = bootstrap(settings_at(fresh), embedder=embedder)
        assert consistent(again), restored
        sources = manifest["counts"]["rows"]["source"]
        assert len(again.knowledge.sources()) == sources > 0
        print(f"backup {n}: {sources} sources, vectors consistent {manifest['vectors_consistent']}, "
              f"re-embedded {restored.embedded} chunks at restore, rebuilt: {restored.rebuilt or 'no'}")


def test_backup_and_restore_on_postgresql_say_what_to_do_instead(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://coach:s3cret@db.example:5432/coach")
    for command in ("backup", "restore"):
        result = coach(command, "coach.tar.gz")
        text = said(result)
        assert result.exit_code == 2 and "pg_dump --format=custom" in text and "pg_restore --clean" in text
        assert "'postgresql://coach@db.example:5432/coach'" in text and "coach reindex" in text
        assert "s3cret" not in text
