"""`coach gaps`: the questions the coach could not answer, clustered by topic, for L&D; `coach gaps draft` drafts a
lesson from a cluster. Part of the `coach` command (connectors/cli/main.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from connectors.cli.common import container as _container, console, errors
from kernel.errors import CoachError

gaps_app = typer.Typer(help="Content gaps: questions the content could not answer, clustered by topic.")

TREND = {"new": "new", "rising": "↑ rising", "falling": "↓ falling", "steady": "→ steady"}


@gaps_app.callback(invoke_without_command=True)
def gaps(
    ctx: typer.Context,
    closed: Annotated[bool, typer.Option("--closed", help="Closed clusters, with the sources that answered them.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Open and closed clusters.")] = False,
    days: Annotated[int, typer.Option(help="The trend compares the last DAYS with the DAYS before.", min=1)] = 14,
    limit: Annotated[int, typer.Option(help="At most this many clusters (0: all).", min=0)] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Print the clusters as JSON.")] = False,
) -> None:
    """List content-gap clusters, most asked first (by people, then questions): open ones unless --closed/--all."""
    if ctx.invoked_subcommand is not None:
        return
    status = "all" if show_all else "closed" if closed else "open"
    found = _container().gaps.clusters(status=status, period_days=days)
    shown = found[:limit] if limit else found
    if json_output:
        print(json.dumps([c.as_json() for c in shown], indent=2))
        return
    if not found:
        console.print(f"No {'' if status == 'all' else status + ' '}content gaps.")
        return
    table = Table(title=f"{status.title()} content gaps ({len(found)})", show_lines=True)
    table.add_column("cluster", no_wrap=True)
    for column in ("questions", "people", f"last {days}d (before)", "trend"):
        table.add_column(column, justify="right" if column != "trend" else "left")
    table.add_column("examples", ratio=3, overflow="fold")
    if status != "open":
        table.add_column("answered by", ratio=1, overflow="fold")
    for c in shown:
        row = [f"{c.id}\n{escape(c.topic)}" if c.topic else c.id,
               f"{c.questions}" + (f"\n({c.open_questions} open)" if c.status == "open" and c.closed_by else ""),
               str(c.people), f"{c.this_period} ({c.previous_period})", TREND[c.trend],
               "\n".join(f"“{escape(e)}”" for e in c.examples)]
        if status != "open":
            row.append("\n".join(f"{escape(s.title)} ({s.questions}, {s.closed_at:%Y-%m-%d})" for s in c.closed_by))
        table.add_row(*row)
    console.print(table)
    if len(shown) < len(found):
        console.print(f"… and {len(found) - len(shown)} more (--limit 0 shows all).")


@gaps_app.command("draft")
def draft(
    cluster_id: Annotated[str, typer.Argument(help="A cluster id from `coach gaps`.")],
    audience: Annotated[list[str], typer.Option("--audience", "-a", help="Who the lesson is for (repeatable); default everyone. Only content they may see is used.")] = [],
) -> None:
    """Draft a lesson answering a cluster's questions with a language model; it waits for approval."""
    from knowledge.metadata import normalize_groups

    try:
        lesson = _container().drafter.draft_from_gap(cluster_id, tuple(normalize_groups(audience) or ["everyone"]))
    except CoachError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Drafted [bold]{escape(lesson.title)}[/bold] as {lesson.key} (status: draft). Review it with "
                  f"`coach lessons show {lesson.key}`, then approve or reject it.")
