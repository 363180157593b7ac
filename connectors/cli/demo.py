"""`coach demo-data`: fill a new install with simulated history (coach/demo_data.py) so every report shows
something, or take it out again with `--remove`. Only the database and the competency framework are opened."""

from __future__ import annotations

from typing import Annotated

import typer

from connectors.cli.common import console, errors


def demo_data(
    remove: Annotated[bool, typer.Option("--remove", help="Delete the demo data (and nothing else).")] = False,
) -> None:
    """Seed 90 days of simulated history (60 demo people in five teams, ids starting `demo-`) so the engagement,
    content-gap and impact reports are filled in; run again to renew it, `--remove` to delete exactly it. The demo
    people are paused: nothing is ever sent to them, and nothing about them goes to an LRS."""
    from coach import demo_data as demo
    from connectors.cli.report import _open

    engine, settings, _names = _open()
    if remove:
        deleted = demo.remove(engine)
        console.print(f"Removed the demo data: {_counts(deleted) or 'there was none'}.", markup=False)
        return
    loaded = _sample_lessons(engine, settings)
    try:
        written = demo.seed(engine)
    except ValueError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    if loaded:
        console.print(f"Loaded {loaded} sample lessons to simulate (they stay: they are content, not demo data).",
                      markup=False)
    console.print(f"Seeded demo data: {_counts(written)}. The reports say so while it is there; "
                  "remove it with `coach demo-data --remove`.", markup=False)


def _sample_lessons(engine, settings) -> int:
    """The sample lessons, when the database has no approved lesson yet (a `coach serve` loads them on its first
    start; this may run before it). Returns how many were added."""
    from coach.competencies import Framework
    from coach.lessons import catalog
    from coach.lessons.authoring import load_lessons
    from examples import LESSONS

    if catalog.listing(engine, status="approved"):
        return 0
    ids = {c.id for c in Framework.load(settings.competencies_file).competencies}
    specs, _problems = load_lessons(LESSONS, ids)
    return sum(1 for outcome in catalog.save(engine, specs).values() if outcome == "added")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())
