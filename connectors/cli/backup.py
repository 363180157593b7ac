"""`coach backup` and `coach restore`: the data folder of the embedded default in one file and back (coach/backup.py),
with progress on stderr."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from connectors.cli.common import console, errors
from kernel.errors import CoachError


def backup(path: Annotated[Path, typer.Argument(help="The file to write, e.g. coach-backup.tar.gz.")]) -> None:
    """Back up the data folder (database, vector index, web admin key) into one file; safe while `coach serve`
    runs on it."""
    from coach import backup as service
    from coach.settings import Settings

    with _failing(), _steps() as progress:
        manifest = service.backup(Settings(), path, progress=progress)
    rows, vectors = manifest["counts"]["rows"], manifest["counts"]["vectors"]
    console.print(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {rows.get('source', 0)} sources, "
                  f"{rows.get('chunk', 0)} chunks, {sum(vectors.values())} vectors, schema "
                  f"{manifest['schema_revision']}.", soft_wrap=True, markup=False, highlight=False)
    if not manifest["vectors_consistent"]:
        errors.print("The vector index kept changing while it was copied (content being ingested): a restore "
                     "rebuilds it from the database, which takes longer. Back up again when it is quiet for a "
                     "faster restore.", style="yellow", markup=False)


def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `coach backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace what the data folder holds.")] = False,
) -> None:
    """Restore a backup into the data folder (COACH_DATA_DIR), which must be empty (or --force) and not in use."""
    from coach import backup as service
    from coach.settings import Settings

    settings = Settings()
    with _failing(), _steps() as progress:
        restored = service.restore(path, settings, force=force, progress=progress)
    manifest = restored.manifest
    console.print(f"Restored the backup of {manifest['created_at']} into {settings.data_dir.resolve()}.",
                  soft_wrap=True, markup=False, highlight=False)
    if restored.rebuilt:
        console.print(f"Rebuilt the vector index from the database ({restored.rebuilt}).", markup=False)
    elif restored.embedding_model not in manifest["embedding_models"]:
        console.print(f"Embedded the content for {restored.embedding_model} (the backup's index is for "
                      f"{', '.join(manifest['embedding_models']) or 'no model'}).", markup=False)
    if restored.embedded:
        console.print(f"Embedded {restored.embedded} chunks the copied index lacked.", markup=False)


@contextmanager
def _failing():
    try:
        yield
    except CoachError as exc:
        errors.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from exc


@contextmanager
def _steps():
    """A bar per step on stderr; the service reports (step, detail, fraction done or None when unknown)."""
    bars = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                    TimeElapsedColumn(), console=errors, transient=False)
    tasks: dict[str, int] = {}

    def advance(step: str, detail: str, fraction: float | None) -> None:
        if not tasks:
            bars.start()  # at the first step: a refusal before it prints no empty bar
        for other in tasks.values():  # an earlier step is over once the next one starts
            bars.update(other, completed=1, total=1)
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=None, detail="")
        bars.update(tasks[step], detail=detail, completed=fraction or 0, total=None if fraction is None else 1)

    try:
        yield advance
    finally:
        bars.stop()
