"""`coach lessons ...` and `coach team-focus`: micro-lessons for L&D (load, draft, review, approve) and a team's
focus competencies. Part of the `coach` command (connectors/cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from connectors.cli.common import container as _container, console, errors
from kernel.errors import CoachError

lessons_app = typer.Typer(help="Micro-lessons: load authored ones, draft with a model, review and approve.",
                          no_args_is_help=True)


def load_into(container, paths: list[Path]) -> tuple[dict, list]:
    """Authored lessons from files or folders, approved on load; returns ({key: outcome}, [LessonError])."""
    from coach.lessons import catalog
    from coach.lessons.authoring import load_lessons

    ids = {c.id for c in container.coach.framework.competencies}
    specs, problems = [], []
    for path in paths:
        found, bad = load_lessons(Path(path), ids)
        specs += found
        problems += bad
    return catalog.save(container.engine, specs), problems


def report(outcome: dict, problems: list) -> None:
    counts = {kind: sum(1 for v in outcome.values() if v == kind) for kind in ("added", "updated", "unchanged")}
    console.print(f"lessons: added {counts['added']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
                  f"refused {len(problems)}")
    for problem in problems:
        errors.print(f"refused {problem}", markup=False)


@lessons_app.command("load")
def load(paths: Annotated[list[Path], typer.Argument(help="Lesson Markdown files or folders (recursive).")]) -> None:
    """Load authored lessons (Markdown with front matter, see examples/lessons/README.md); they are live at once."""
    outcome, problems = load_into(_container(), paths)
    report(outcome, problems)
    if problems and not outcome:
        raise typer.Exit(1)


@lessons_app.command("list")
def listing(status: Annotated[str, typer.Option(help="approved, draft or rejected (default: all).")] = "",
            json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The lessons with their status, competencies, audience and length."""
    from coach.lessons import catalog

    lessons = catalog.listing(_container().engine, status or None)
    if json_output:
        print(json.dumps([lesson.model_dump(mode="json") for lesson in lessons], indent=2))
        return
    for lesson in lessons:
        console.print(f"{lesson.status:9} {lesson.key}  {lesson.title}  [{', '.join(lesson.competencies)}] "
                      f"for {', '.join(lesson.audience)}, {lesson.minutes} min", markup=False)
    if not lessons:
        console.print("No lessons yet: `coach lessons load examples/lessons`, or draft one with `coach lessons draft`.")


@lessons_app.command("show")
def show(key: Annotated[str, typer.Argument(help="The lesson's key (see `coach lessons list`).")]) -> None:
    """A lesson as learners will see it, with its answer and feedback, for review."""
    from coach.lessons import catalog

    lesson = catalog.get(_container().engine, key)
    if lesson is None:
        errors.print(f"No lesson {key!r}: `coach lessons list` shows them.")
        raise typer.Exit(1)
    lines = [f"# {lesson.title}  ({lesson.status}, {lesson.minutes} min, {', '.join(lesson.competencies)})", "",
             lesson.body, "", f"Q: {lesson.question}"]
    lines += [f"  {'*' if i == lesson.correct else ' '} {o['text']}  -- {o.get('feedback', '')}"
              for i, o in enumerate(lesson.options)]
    lines += ["", f"Why: {lesson.explanation}", f"Sources: {', '.join(lesson.sources) or '-'}"]
    console.print("\n".join(lines), markup=False, highlight=False)


def _set_status(keys: list[str], status: str) -> None:
    from coach.lessons import catalog

    engine = _container().engine
    missing = [key for key in keys if catalog.set_status(engine, key, status) is None]
    for key in keys:
        if key not in missing:
            console.print(f"{status} {key}")
    if missing:
        errors.print(f"No lesson {', '.join(missing)}: `coach lessons list` shows them.")
        raise typer.Exit(1)


@lessons_app.command("approve")
def approve(keys: Annotated[list[str], typer.Argument(help="Lesson keys.")]) -> None:
    """Publish drafts: approved lessons reach learners."""
    _set_status(keys, "approved")


@lessons_app.command("reject")
def reject(keys: Annotated[list[str], typer.Argument(help="Lesson keys.")]) -> None:
    """Withdraw lessons: they no longer reach learners (reviews of them stop)."""
    _set_status(keys, "rejected")


@lessons_app.command("draft")
def draft(source: Annotated[str, typer.Option("--source", help="A source's id, key or path ending (`coach sources`).")]) -> None:
    """Have the language model draft a lesson from a source; it waits as a draft until approved."""
    container = _container()
    with console.status("Drafting…"):
        try:
            lesson = container.drafter.from_source(source)
        except CoachError as exc:
            errors.print(str(exc), markup=False)
            raise typer.Exit(2) from exc
    console.print(f"Drafted {lesson.key}: {lesson.title}. Review it with `coach lessons show {lesson.key}`, then "
                  f"`coach lessons approve {lesson.key}`.", markup=False)


def team_focus(
    team: Annotated[str, typer.Argument(help="The team, as in learners' profiles (`coach learners set --team`).")],
    competencies: Annotated[list[str], typer.Argument(help="Competency ids (see the competency framework); none: clear.")] = [],
    by: Annotated[str, typer.Option(help="Who set it (e.g. the manager's e-mail).")] = "",
) -> None:
    """Set the competencies a team should grow in now; the coach favours lessons on them."""
    from coach.managers import set_focus

    container = _container()
    known = {c.id for c in container.coach.framework.competencies}
    unknown = [c for c in competencies if c not in known]
    if unknown:
        errors.print(f"Unknown competency {', '.join(unknown)}; the framework has: {', '.join(sorted(known))}.")
        raise typer.Exit(2)
    set_focus(container.engine, team, list(competencies), by)
    console.print(f"{team}: focus on {', '.join(competencies) or 'nothing in particular'}.", markup=False)
