"""Backup and restore of the embedded default's data folder, while `coach serve` keeps serving from it.

A backup is one `.tar.gz`: `manifest.json` first (format, schema revision, embedding models, row and vector counts,
a SHA-256 per file), then the database, the Chroma folder and the admin's cookie key. Nothing takes the data folder
lock (coach/locks.py) the server holds, and nothing opens Chroma in a second process:

- the database is read through SQLite's online backup API (one step: a WAL reader, the server writes on);
- Chroma's own SQLite file (collections, metadata, and the write log not yet folded into the HNSW files) through the
  same API, right after copying its HNSW segment files; the copy counts as consistent when no segment file changed
  from before that copy until after the SQLite snapshot (tried a few times, then recorded as not consistent).

The database is copied first: ingestion writes vectors before the rows that use them, so a vector the copied rows
need is already in the later Chroma copy, unless a source was replaced during the backup. A restore therefore never
trusts the vectors blindly: it unpacks into a staging folder inside the target, checks every checksum, opens the
copied index and reads every vector back, re-embeds from the database whatever is missing (all of it when the copy is
not consistent or does not read back), and only then moves the result into place. Any refusal or failure before that
move leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from coach.locks import DataDirBusy, exclusive_data_dir
from coach.settings import Settings
from coach.store.db import MIGRATIONS
from kernel.errors import CoachError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "coach.db"
CHROMA = "chroma"
CHROMA_DB = "chroma.sqlite3"
KEPT_FILES = ("admin_secret.key",)  # other state kept beside the database (uploads/ holds only files in flight)
TRANSIENT = {"coach.lock", "worker.lock"}  # never backed up; a restore target may hold them
STAGING = ".coach-restore-"
STABLE_TRIES = 5
_UNREADABLE = (tarfile.TarError, OSError, EOFError, zlib.error)  # how a damaged or cut-off .tar.gz fails to read

# (step, detail, fraction done or None): ("Writing the archive", "31.5 of 80.2 MB", 0.39)
Progress = Callable[[str, str, float | None], None]


class BackupError(CoachError):
    pass


@dataclass
class Restored:
    manifest: dict
    embedded: int  # chunks embedded again because the copied index lacked them
    embedding_model: str  # the model the restored index is for (the backup's, unless the settings name another)
    rebuilt: str  # why the whole index was rebuilt from the database ("" when the copy was kept)


def _quiet(step: str, detail: str, fraction: float | None) -> None:
    pass


# ---- backup -------------------------------------------------------------------------------------------------------


def backup(settings: Settings, out: Path, *, progress: Progress = _quiet) -> dict:
    """Write a backup of the data folder to `out` (written beside it under a temporary name, then renamed);
    returns its manifest."""
    database = _embedded_database(settings, "backup")
    if not database.exists():
        raise BackupError(f"There is nothing to back up: {database} does not exist. Is COACH_DATA_DIR right?")
    out = out.resolve()
    if out.is_dir():
        raise BackupError(f"{out} is a folder: give the backup file's name, e.g. {out / 'coach-backup.tar.gz'}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".coach-backup-", dir=out.parent))
    partial = out.with_name(out.name + ".partial")
    try:
        progress("Copying the database", "", None)
        _sqlite_copy(database, work / DATABASE)
        consistent = _copy_chroma(settings.data_dir / CHROMA, work / CHROMA, progress)
        for name in KEPT_FILES:
            if (settings.data_dir / name).is_file():
                shutil.copy2(settings.data_dir / name, work / name)
        manifest = _manifest(work, consistent)
        _write_archive(work, manifest, partial, progress)
        partial.replace(out)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)  # a failed backup leaves no half-written file


def _embedded_database(settings: Settings, what: str) -> Path:
    """The SQLite file of the embedded default; anything else is refused with what to do instead."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "postgresql":
        raise BackupError(postgres_instructions(settings.resolved_database_url, what))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(f"`coach {what}` handles the embedded SQLite database only; DATABASE_URL is "
                          f"{url.render_as_string(hide_password=True)}: use that database's own backup tools.")
    if settings.chroma_host:
        raise BackupError(f"`coach {what}` handles the embedded vector index only, and CHROMA_HOST points at a Chroma "
                          "server: back up the server's volume (and the database with sqlite3's `.backup`), or "
                          "restore the database alone and run `coach reindex` to rebuild the vectors in the server.")
    return Path(url.database)


def postgres_instructions(url: str, what: str) -> str:
    """What to run instead of `coach backup` / `coach restore` on PostgreSQL (the password left out: PGPASSWORD)."""
    target = make_url(url).set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)
    return (f"`coach {what}` is for the embedded SQLite database; this deployment uses PostgreSQL. Use its own tools "
            "(the password from PGPASSWORD or ~/.pgpass):\n"
            f"  back up:  pg_dump --format=custom --no-owner --no-privileges --file=coach.dump '{target}'\n"
            f"  restore:  pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction "
            f"--dbname='{target}' coach.dump\n"
            "then rebuild the vector index from the restored database with `coach reindex` (or restore the Chroma "
            "server's volume from the same moment).")


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API, in one step: no restart when the server writes
    meanwhile; on a WAL database the server's writers never wait for it."""
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file())


def _segment_state(chroma: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(chroma)): (s.st_size, s.st_mtime_ns, s.st_ino)
            for p in _files(chroma) if not p.name.startswith(CHROMA_DB) for s in [p.stat()]}


def _copy_chroma(chroma: Path, target: Path, progress: Progress) -> bool:
    """Copy the HNSW segment files, then snapshot chroma.sqlite3; True when no segment file changed from before the
    copy until after the snapshot (so the snapshot's write log starts where the copied segments end)."""
    if not (chroma / CHROMA_DB).is_file():
        return True  # no index yet: nothing to copy, and a restore embeds whatever the database holds
    for attempt in range(1, STABLE_TRIES + 1):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        progress("Copying the vector index", f"try {attempt} of {STABLE_TRIES}" if attempt > 1 else "", None)
        before = _segment_state(chroma)
        for name in before:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(chroma / name, target / name)
            except FileNotFoundError:  # replaced while copying: seen as a change below
                pass
        _sqlite_copy(chroma / CHROMA_DB, target / CHROMA_DB)
        if _segment_state(chroma) == before:
            return True
        time.sleep(0.2 * attempt)
    return False


def _manifest(work: Path, consistent: bool) -> dict:
    with closing(sqlite3.connect(work / DATABASE)) as db:
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                           "'sqlite_%' AND name != 'alembic_version' ORDER BY name")]
        rows = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    return {"format": FORMAT, "product": "learning-coach", "version": _version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": revision[0] if revision else None,
            "embedding_models": sorted({m for m, _ in _vector_counts(work / CHROMA).values()}),
            "counts": {"rows": rows, "vectors": {name: n for name, (_, n) in _vector_counts(work / CHROMA).items()}},
            "vectors_consistent": consistent,
            "files": {str(p.relative_to(work)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                      for p in _files(work)}}


def _vector_counts(chroma: Path) -> dict[str, tuple[str, int]]:
    """Collection name -> (embedding model, entries), read from the copied chroma.sqlite3 (Chroma's metadata
    segment), without opening Chroma."""
    if not (chroma / CHROMA_DB).is_file():
        return {}
    with closing(sqlite3.connect(chroma / CHROMA_DB)) as db:
        rows = db.execute(
            "SELECT c.name, (SELECT str_value FROM collection_metadata m WHERE m.collection_id = c.id AND m.key = "
            "'embedder'), (SELECT count(*) FROM embeddings e JOIN segments s ON e.segment_id = s.id "
            "WHERE s.collection = c.id) FROM collections c ORDER BY c.name").fetchall()
    return {name: (model or "", count) for name, model, count in rows}


def _version() -> str:
    try:
        return metadata.version("learning-coach")
    except metadata.PackageNotFoundError:
        return "unknown"


def _megabytes(done: int, total: int) -> str:
    return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_archive(work: Path, manifest: dict, out: Path, progress: Progress) -> None:
    total, done = sum(f["bytes"] for f in manifest["files"].values()), 0
    encoded = json.dumps(manifest, indent=2).encode()
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(encoded), int(time.time())
        tar.addfile(info, io.BytesIO(encoded))
        for name, entry in manifest["files"].items():
            tar.add(work / name, arcname=name, recursive=False)
            done += entry["bytes"]
            progress("Writing the archive", _megabytes(done, total), done / max(total, 1))


# ---- restore ------------------------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict:
    """The manifest of a backup file, checked for a format and a schema this install can restore."""
    with _open_archive(archive) as tar:
        return _check_manifest(archive, _first_manifest(archive, tar))


def restore(archive: Path, settings: Settings, *, force: bool = False, embedder=None,
            progress: Progress = _quiet) -> Restored:
    """Restore a backup into settings.data_dir; refuses a folder in use or (without `force`) not empty."""
    database = _embedded_database(settings, "restore")
    target = settings.data_dir.resolve()
    if database.resolve() != target / DATABASE:
        raise BackupError(f"`coach restore` writes the database to {target / DATABASE}, but DATABASE_URL points at "
                          f"{database}: unset DATABASE_URL to restore the embedded default.")
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    existed = target.exists()
    try:
        with exclusive_data_dir(target):
            return _restore_into(target, archive, settings, force, embedder, progress)
    except DataDirBusy as exc:
        raise BackupError(f"A coach process (probably `coach serve`) is using {target}: stop it before restoring "
                          "into that folder, or restore into another one (COACH_DATA_DIR).") from exc
    finally:
        if not existed and not (target / DATABASE).exists():  # refused or failed: no folder left behind
            shutil.rmtree(target, ignore_errors=True)


def _restore_into(target: Path, archive: Path, settings: Settings, force: bool, embedder,
                  progress: Progress) -> Restored:
    present = _state_in(target)
    if present and not force:
        raise BackupError(f"{target} is not empty ({', '.join(present[:5])}): restore into an empty data folder "
                          "(set COACH_DATA_DIR), or pass --force to replace what is there.")
    for stale in target.glob(STAGING + "*"):  # left by a restore that was killed (this one holds the folder now)
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=target))
    try:
        manifest = _unpack(archive, staging, progress)
        restored = _index(staging, settings, manifest, embedder, progress)
        _swap(staging, target)
        return restored
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _state_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in TRANSIENT and not p.name.startswith(STAGING))


def _open_archive(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:gz")
    except _UNREADABLE as exc:
        raise _corrupt(archive, exc) from exc


def _corrupt(archive: Path, reason) -> BackupError:
    return BackupError(f"{archive} is not a readable coach backup ({reason}): it may be damaged or incomplete; "
                       "nothing was changed. Restore from another copy of the backup.")


def _first_manifest(archive: Path, tar: tarfile.TarFile) -> dict:
    try:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise _corrupt(archive, f"it does not start with {MANIFEST}")
        return json.loads(tar.extractfile(first).read())
    except (*_UNREADABLE, ValueError) as exc:
        raise _corrupt(archive, exc) from exc


def _check_manifest(archive: Path, manifest: dict) -> dict:
    if manifest.get("product") != "learning-coach" or not isinstance(manifest.get("files"), dict):
        raise _corrupt(archive, "its manifest is not a coach backup's")
    if manifest.get("format", 0) > FORMAT:
        raise BackupError(f"{archive} was written by a newer version of the coach (backup format "
                          f"{manifest['format']}; this one reads {FORMAT}): upgrade the coach, then restore it.")
    revision = manifest.get("schema_revision")
    scripts = ScriptDirectory(str(MIGRATIONS))
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(f"{archive} holds a database at schema revision {revision!r}, newer than this install "
                          f"knows (its newest is {scripts.get_current_head()}; backup "
                          f"made by version {manifest.get('version', '?')}): upgrade the coach, then restore it.")
    return manifest


def _unpack(archive: Path, staging: Path, progress: Progress) -> dict:
    """Every file the manifest lists, each checked against its SHA-256; nothing else is written."""
    with _open_archive(archive) as tar:
        manifest = _check_manifest(archive, _first_manifest(archive, tar))
        expected, seen = manifest["files"], set()
        total, done = sum(f["bytes"] for f in expected.values()), 0
        try:
            while (member := tar.next()) is not None:
                entry = expected.get(member.name)
                if entry is None or not member.isfile() or member.name in seen:
                    raise _corrupt(archive, f"unexpected entry {member.name!r}")
                path = staging / member.name
                path.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(member) as source, path.open("xb") as copy:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        digest.update(block)
                        copy.write(block)
                if digest.hexdigest() != entry["sha256"]:
                    raise _corrupt(archive, f"{member.name} does not match its checksum")
                if member.name in KEPT_FILES:
                    path.chmod(0o600)
                seen.add(member.name)
                done += entry["bytes"]
                progress("Checking and unpacking", _megabytes(done, total), done / max(total, 1))
        except _UNREADABLE as exc:
            raise _corrupt(archive, exc) from exc
    if missing := sorted(set(expected) - seen):
        raise _corrupt(archive, f"{', '.join(missing[:3])} missing")
    if DATABASE not in seen:
        raise _corrupt(archive, "no database in it")
    return manifest


def _index(staging: Path, settings: Settings, manifest: dict, embedder, progress: Progress) -> Restored:
    """Open the restored copy (migrating an older schema, as a start would), read every copied vector back, and
    embed what the database holds but the index lacks; a copy that does not read back is rebuilt whole."""
    from coach.bootstrap import bootstrap, build_embedder  # only here: a backup next to a running server loads no model, no Chroma

    # the staging folder's own database (DATABASE_URL empty, of whichever type the setting has)
    staged = settings.model_copy(update={"data_dir": staging, "database_url": type(settings.database_url)(""),
                                         "load_samples": False})
    embedder = embedder or build_embedder(settings)
    rebuilt = "" if manifest.get("vectors_consistent") else "the index changed during every try to copy it"
    if not rebuilt and (staging / CHROMA).is_dir():
        rebuilt = _unreadable_copy(staging, embedder.name)
    if rebuilt:
        shutil.rmtree(staging / CHROMA, ignore_errors=True)
    container = bootstrap(staged, embedder=embedder)
    try:
        synced = container.knowledge.sync_vectors(lambda note: progress("Embedding what the index lacks", note, None))
    finally:
        release(container)
    return Restored(manifest=manifest, embedded=synced["embedded"], embedding_model=embedder.name, rebuilt=rebuilt)


def _unreadable_copy(staging: Path, model: str) -> str:
    """Why the copied index cannot be used as it is ("" when every vector it lists reads back), found in a child
    process: Chroma's native code can crash the process on a damaged segment file instead of raising."""
    check = subprocess.run([sys.executable, "-m", "coach.backup", str(staging), model], capture_output=True,
                           text=True, env={**os.environ, "COACH_LOAD_SAMPLES": "false"})
    if check.returncode == 0:
        return ""
    said = check.stderr.strip().splitlines()
    return said[-1] if check.returncode == 1 and said else f"the copied index crashed Chroma (exit {check.returncode})"


def _check_copy(staging: Path, model: str) -> int:
    """The child's side of _unreadable_copy: open the copy for the model's collections and read every vector."""
    from coach.bootstrap import bootstrap

    container = bootstrap(Settings(COACH_DATA_DIR=staging, DATABASE_URL="", CHROMA_HOST="",
                                   COACH_LOAD_SAMPLES=False), embedder=_NameOnly(model))
    ingestor = container.knowledge.ingestor
    for index in (ingestor.vectors, ingestor.headings):
        try:
            ids = index.all_ids()
            if len(index.existing_embeddings(sorted(ids))) != len(ids):
                print(f"the copied {index.kind} index lacks vectors it lists", file=sys.stderr)
                return 1
        except Exception as exc:  # Chroma reports a damaged segment as an internal error of its own
            print(f"the copied {index.kind} index does not read back ({exc})", file=sys.stderr)
            return 1
    return 0


@dataclass(frozen=True)
class _NameOnly:
    """An embedding model's name, which picks the index's collections; checking the index embeds nothing."""

    name: str

    def embed_passages(self, texts):
        raise RuntimeError("checking a restored index embeds nothing")

    embed_query = embed_passages


def release(container) -> None:
    """Release the restored copy's files before they move: the database's connections and Chroma's client (which
    only the vector index holds)."""
    container.engine.dispose()
    container.knowledge.ingestor.vectors._client.close()


def _swap(staging: Path, target: Path) -> None:
    """Move what was there aside, the restored files in, then drop the old; a failure midway puts the old back."""
    aside = Path(tempfile.mkdtemp(prefix=STAGING + "old-", dir=target))
    moved_aside, moved_in = [], []
    try:
        for name in _state_in(target):
            os.replace(target / name, aside / name)
            moved_aside.append(name)
        for path in sorted(staging.iterdir()):
            os.replace(path, target / path.name)
            moved_in.append(path.name)
    except OSError:
        for name in moved_in:
            os.replace(target / name, staging / name)
        for name in moved_aside:
            os.replace(aside / name, target / name)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


if __name__ == "__main__":  # python -m coach.backup STAGING MODEL: a restore's index check (see _unreadable_copy)
    sys.exit(_check_copy(Path(sys.argv[1]), sys.argv[2]))
