"""What every `coach` sub-command shares: the consoles (results on stdout, progress and errors on stderr), the
container built from the settings, and holding the data folder while writing to an embedded index."""

from __future__ import annotations

from contextlib import contextmanager

import typer
from rich.console import Console

from kernel.errors import CoachError

console = Console()
errors = Console(stderr=True, soft_wrap=True)


def container():
    """Built from the settings; or the one the caller handed in (`CliRunner().invoke(app, args, obj=container)`),
    so tests pass their container, fakes and all, as they pass fakes to bootstrap()."""
    import click

    from coach.bootstrap import bootstrap

    given = click.get_current_context(silent=True)
    if given is not None and given.obj is not None:
        return given.obj
    try:
        return bootstrap()
    except CoachError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@contextmanager
def writing(container):
    """Hold the data folder while writing to an embedded index (see coach/locks.py)."""
    from coach.locks import exclusive_data_dir

    try:
        with exclusive_data_dir(container.settings.data_dir, needed=not container.settings.chroma_host):
            yield
    except CoachError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc
