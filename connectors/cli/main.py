"""The `coach` command: serve, ingest, remove, sources, search, learners, reindex, teams-package; the other
groups each have a module here (lessons and team-focus, nudges and worker, users and tokens, gaps, report,
demo-data)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.cli.common import console, container as _container, errors, writing as _writing
from connectors.cli.lessons import lessons_app, team_focus
from connectors.cli.nudges import nudges_app, team_needs, worker
from connectors.cli.admin import tokens_app, users_app
from connectors.cli.gaps import gaps_app
from connectors.cli.xapi import xapi_app
from connectors.cli.demo import demo_data
from connectors.cli.report import report_app
from connectors.cli.backup import backup, restore
from kernel.errors import CoachError

app = typer.Typer(help="The learning coach: answers from your company's learning content.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
learners_app = typer.Typer(help="Learners' audience groups (who may see restricted content).", no_args_is_help=True)
app.add_typer(learners_app, name="learners")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on (COACH_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (COACH_PORT, default 3978).")] = None,
) -> None:
    """Start the app server on the configured (by default embedded) services."""
    import uvicorn

    from connectors.server import create_app

    from kernel.logs import configure as configure_logs

    container = _container()
    settings = container.settings
    configure_logs(settings.log_format, settings.log_level)
    with _writing(container):
        _prepare(container)
        uvicorn.run(create_app(container), host=host or settings.host, port=port or settings.port, log_config=None)


def _prepare(container) -> None:
    """Vectors in step with the database, and the sample content on the very first start."""
    with console.status("Checking the vector index…"):
        synced = container.knowledge.sync_vectors()
    if synced["embedded"]:
        console.print(f"Embedded {synced['embedded']} chunks for the current embedding model.")
    if container.settings.load_samples and container.knowledge.samples_pending():
        from connectors.cli.lessons import load_into, report as report_lessons
        from examples import LESSONS as SAMPLE_LESSONS

        try:
            if not SAMPLE_LESSONS.is_dir():
                raise CoachError(f"The sample lessons are missing from this install (no folder {SAMPLE_LESSONS}): "
                                 "reinstall the package, or set COACH_LOAD_SAMPLES=false to start without them.")
            report_lessons(*load_into(container, [SAMPLE_LESSONS]))
            with _progress() as progress:
                task = progress.add_task("Loading the sample content", total=None)
                report = container.knowledge.load_samples(lambda name: progress.advance(task))
        except CoachError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        _print_summary(report)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively).")],
    audience: Annotated[list[str], typer.Option("--audience", "-a", help="Who may see it (repeatable); default everyone. A sidecar's audience wins.")] = [],
    owner: Annotated[str, typer.Option(help="Owner of the content (e.g. a team mailbox).")] = "",
    competency: Annotated[list[str], typer.Option("--competency", "-c", help="Competency tag (repeatable).")] = [],
    title: Annotated[str, typer.Option(help="Title (only sensible for a single file).")] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add or update learning content; unchanged files are skipped, bad files reported and skipped."""
    from knowledge.ingest import discover
    from knowledge.metadata import SourceMeta, normalize_groups

    try:
        defaults = SourceMeta(title=title or None, audience=normalize_groups(audience), owner=owner or None,
                              competencies=normalize_groups(competency))
    except CoachError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    from connectors.cli.lessons import load_into, report as report_lessons
    from coach.lessons.authoring import is_lesson_file

    container = _container()
    files = discover(paths)
    lessons = [f for f in files if is_lesson_file(f)]  # Markdown with a quiz in its front matter
    files = [f for f in files if f not in lessons]
    loaded, refused = load_into(container, lessons) if lessons else ({}, [])
    if lessons and not json_output:
        report_lessons(loaded, refused)
    with _writing(container), _progress(disable=json_output) as progress:
        task = progress.add_task("Ingesting", total=len(files))
        report = container.knowledge.ingest(files, defaults, lambda name: progress.update(task, advance=1, description=name[:40]))
    if json_output:
        print(json.dumps({"summary": report.summary(), "files": [o.__dict__ for o in report.outcomes],
                          "lessons": loaded, "lessons_refused": [str(p) for p in refused]}, indent=2))
    else:
        _print_summary(report)
    if report.failed and len(report.failed) == len(report.outcomes):
        raise typer.Exit(1)


@app.command()
def remove(keys: Annotated[list[str], typer.Argument(help="Source ids, keys or file paths (see `coach sources`).")]) -> None:
    """Delete sources from the knowledge base."""
    container = _container()
    with _writing(container):
        removed = container.knowledge.remove(keys)
    for source in removed:
        console.print(f"Removed {source.title} ({source.key})")
    if len(removed) < len(keys):
        errors.print(f"[yellow]{len(keys) - len(removed)} not found; `coach sources` lists what is there.[/yellow]")
        raise typer.Exit(1)


@app.command()
def sources(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List what is in the knowledge base."""
    rows = _container().knowledge.sources()
    if json_output:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table("id", "title", "type", "audience", "competencies", "chunks", "updated")
    for r in rows:
        table.add_row(r.id[:8], r.title, r.doc_type, ", ".join(r.audience), ", ".join(r.competencies),
                      str(r.chunk_count), r.updated_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
    console.print(f"{len(rows)} sources")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A question, as a learner would ask it.")],
    as_learner: Annotated[str, typer.Option("--as", help="Search as this learner (their audience groups).")] = "",
    group: Annotated[list[str], typer.Option("--group", "-g", help="Search as a member of this group (repeatable).")] = [],
    k: Annotated[int, typer.Option("-k", help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or keyword.")] = "hybrid",
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what retrieval returns for a question."""
    from coach.learners import groups_of

    container = _container()
    groups = [g.lower() for g in group]
    if as_learner:
        learner_groups = groups_of(container.engine, as_learner)
        if learner_groups is None:
            errors.print(f"[yellow]{as_learner} is not a known learner: searching as `everyone` "
                         f"(`coach learners set {as_learner} --group ...` adds one).[/yellow]")
        groups += learner_groups or []
    passages = container.knowledge.search(query, groups=groups, k=k, mode=mode)
    if json_output:
        print(json.dumps([p.as_json() for p in passages], indent=2))
        return
    if not passages:
        console.print("Nothing in the knowledge base matches.")
    for n, p in enumerate(passages, start=1):
        scores = f"score {p.score:.3f}" + (f" · dense {p.dense:.3f}" if p.dense is not None else "") + (
            f" · bm25 {p.keyword:.2f}" if p.keyword is not None else "")
        console.print(f"[bold][{n}] {p.title}[/bold]" + (f" — {p.where}" if p.where else "") + f"  [dim]{scores}[/dim]")
        console.print("    " + p.text[:300].replace("\n", " ") + ("…" if len(p.text) > 300 else ""))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question, as a learner would ask it.")],
    as_learner: Annotated[str, typer.Option("--as", help="Ask as this learner (their audience groups).")] = "cli",
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ask the coach a question and get a cited answer (or an honest "not covered")."""
    from coach.messages import IncomingMessage

    # the terminal's language, as gettext reads it, when the question does not say its own
    locale = next((os.environ[name] for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG") if os.environ.get(name)),
                  "")
    reply = _container().coach.ask(IncomingMessage(learner_id=as_learner, text=question, channel="cli", platform="cli",
                                                   locale=locale))
    if json_output:
        citations = [c.as_json() for c in reply.citations]
        print(json.dumps({"answer": reply.text, "citations": citations, "abstained": reply.abstained,
                          "mode": reply.mode, "need_id": reply.need_id, "language": reply.language,
                          "notice": reply.notice}, indent=2))
        return
    if reply.notice:
        console.print(reply.notice, style="italic", markup=False, highlight=False)
    console.print(reply.text, markup=False, highlight=False)
    for c in reply.citations:
        console.print(f"[{c.n}] {c.title}" + (f" — {c.where}" if c.where else ""), markup=False, highlight=False)


@app.command()
def reindex() -> None:
    """Re-embed what the vector index lacks and drop vectors the database no longer holds."""
    container = _container()
    with _writing(container), console.status("Re-indexing…") as status:
        result = container.knowledge.sync_vectors(lambda msg: status.update(f"Re-indexing: {msg}"))
    console.print(f"Embedded {result['embedded']} chunks, removed {result['orphans_removed']} orphan vectors.")


@app.command("teams-package")
def teams_package(
    out: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("learning-coach-teams.zip"),
) -> None:
    """Build the Microsoft Teams app package (manifest with the bot id, two icons) an admin uploads to Teams."""
    from rich.markup import escape

    from coach.settings import Settings
    from connectors.teams.package import build_package

    try:
        written = build_package(Settings(), out)  # settings only: no models, no database
    except ValueError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Wrote {written.resolve()}", soft_wrap=True, markup=False, highlight=False)
    console.print("Upload it in Teams (Apps -> Manage your apps -> Upload an app -> Upload a custom app) or, "
                  "for everyone, in the Teams admin center (Teams apps -> Manage apps -> Upload new app).",
                  soft_wrap=True, markup=False, highlight=False)


@learners_app.command("set")
def learners_set(
    learner_id: Annotated[str, typer.Argument(help="The learner's id (Slack/Teams user id or e-mail).")],
    group: Annotated[Optional[list[str]], typer.Option("--group", "-g", help="Audience group (repeatable); replaces the groups.")] = None,
    name: Annotated[Optional[str], typer.Option(help="Display name.")] = None,
    role: Annotated[Optional[str], typer.Option(help="Role, e.g. 'designer'.")] = None,
    team: Annotated[Optional[str], typer.Option(help="Team.")] = None,
    timezone: Annotated[Optional[str], typer.Option(help="Time zone, e.g. Europe/London.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Language code, e.g. en or nl.")] = None,
    paused: Annotated[Optional[bool], typer.Option("--pause/--resume", help="Pause or resume nudges.")] = None,
    preference: Annotated[Optional[list[str]], typer.Option("--preference", "-p", help="lesson_minutes=5, days=0-4 (0 = Monday) or hours=9-17 (repeatable).")] = None,
) -> None:
    """Create or update a learner's profile; only the options given change."""
    from coach.learners import find, parse_preferences, update_profile
    from knowledge.metadata import normalize_groups

    engine = _container().engine
    try:
        preferences = None
        if preference:
            known = find(engine, learner_id)
            preferences = parse_preferences(preference, known.preferences if known else {})
        learner = update_profile(engine, learner_id, display_name=name, role=role, team=team,
                                 timezone=timezone, language=language, paused=paused, preferences=preferences,
                                 groups=list(normalize_groups(group)) if group is not None else None)
    except CoachError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"{learner.id}: groups {', '.join(learner.groups) or 'everyone only'}; "
                  f"{learner.timezone}, {learner.language}" + ("; nudges paused" if learner.paused else ""))


def _progress(disable: bool = False) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=errors, disable=disable, transient=False)


def _print_summary(report) -> None:
    s = report.summary()
    console.print(f"added {s['added']}, updated {s['updated']}, unchanged {s['unchanged']}, failed {s['failed']}")
    for outcome in report.failed:
        errors.print(f"[red]failed[/red] {outcome.path}: {outcome.reason}")


@learners_app.command("export")
def learners_export(learner_id: Annotated[str, typer.Argument(help="The learner's id.")]) -> None:
    """Print everything kept about a learner, as JSON."""
    print(json.dumps(_container().coach.export(learner_id), indent=2))


@learners_app.command("forget")
def learners_forget(learner_id: Annotated[str, typer.Argument(help="The learner's id.")]) -> None:
    """Delete everything kept about a learner (questions, profile, lesson progress, chat addresses)."""
    deleted = _container().coach.forget(learner_id)
    console.print(f"Deleted {deleted['questions']} questions, {deleted['profile']} profile, "
                  f"{deleted['lesson_records']} lesson records and {deleted['chat_addresses']} chat addresses of "
                  f"{learner_id}.")


app.add_typer(lessons_app, name="lessons")
app.add_typer(nudges_app, name="nudges")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(gaps_app, name="gaps")
app.add_typer(xapi_app, name="xapi")
app.command("team-focus")(team_focus)
app.command("worker")(worker)
app.command("team-needs")(team_needs)
app.add_typer(report_app, name="report")
app.command("demo-data")(demo_data)
app.command("backup")(backup)
app.command("restore")(restore)
