"""`coach report`: L&D's engagement report in the terminal (rich tables) or one of its tables as CSV, and `coach
report impact`, the impact report (coach/engagement/impact.py) the same ways. Part of the `coach` command
(connectors/cli/main.py). Only the database and the competency framework are opened: no models, no index. The same
aggregates and privacy threshold as the web admin's reports pages (coach/engagement)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer
from rich.table import Table

from connectors.cli.common import console, errors
from kernel.errors import CoachError


report_app = typer.Typer(invoke_without_command=True)
# the impact tables' columns a terminal has room for (the CSV and --json have them all); ids give way to names
TERMINAL = {"effect": ("name", "status", "taken", "matches", "difference", "low", "high")}
IDS = ("lesson", "competency")
SHARES = ("accuracy", "retention", "acted_on_share", "deflected_share", "on_focus_share", "recall_30d")


@report_app.callback()
def report(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="The period: this many days up to now.")] = 30,
    team: Annotated[Optional[list[str]], typer.Option(help="Only these teams (repeatable); each must have at "
                                                             "least COACH_PRIVACY_MIN_GROUP people.")] = None,
    competency: Annotated[str, typer.Option(help="Only what concerns this competency id.")] = "",
    csv_table: Annotated[str, typer.Option("--csv", help="Print this one table as CSV (e.g. topics, "
                                                          "questions_per_day) instead of the report.")] = "",
    bom: Annotated[bool, typer.Option(help="Start the CSV with a byte-order mark, so Excel reads it as "
                                           "UTF-8.")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Engagement and effect: questions, answers, ratings, topics, lessons, quiz accuracy, retention, nudges.
    Aggregates only: a row fewer than COACH_PRIVACY_MIN_GROUP people stand behind is not shown. `coach report
    impact` shows the impact report."""
    if ctx.invoked_subcommand:
        return
    from coach import engagement

    engine, settings, names = _open()
    try:
        result = engagement.summary(engine, days=days, team=team or None, competency=competency or None,
                                    min_group=settings.privacy_min_group, names=names)
        if csv_table:
            sys.stdout.write(engagement.to_csv(result, csv_table, bom=bom))
            return
    except (CoachError, ValueError) as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    if json_output:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    period = result["period"]
    scope = ", ".join(filter(None, [", ".join(period["team"]) or "everyone", period["competency"]]))
    console.print(f"Engagement, {scope}: {period['since'][:10]} to {period['until'][:10]} (UTC)", markup=False)
    for name, table in result["tables"].items():
        _print(name, table, settings.privacy_min_group)


@report_app.command("impact")
def impact(
    days: Annotated[int, typer.Option(help="The period: this many days up to now (a lesson's effect needs 30 days "
                                           "of follow-up inside it).")] = 90,
    team: Annotated[Optional[list[str]], typer.Option(help="Only these teams (repeatable); each must have at "
                                                             "least COACH_PRIVACY_MIN_GROUP people.")] = None,
    competency: Annotated[str, typer.Option(help="Only what concerns this competency id.")] = "",
    csv_table: Annotated[str, typer.Option("--csv", help="Print this one table as CSV (e.g. effect_by_lesson, "
                                                          "deflection, alignment) instead of the report.")] = "",
    bom: Annotated[bool, typer.Option(help="Start the CSV with a byte-order mark, so Excel reads it as "
                                           "UTF-8.")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Impact: the effect of lessons on follow-up questions (against matched colleagues, with a 95% interval), quiz
    accuracy by attempt, recall at 30 days, questions deflected with the time saved (an estimate), and alignment
    with team focus. Aggregates only, with the privacy threshold everywhere."""
    from coach import engagement
    from coach.services.reports import impact as impact_report

    engine, settings, names = _open()
    try:
        result = impact_report(engine, settings, days=days, team=team or None, competency=competency or None,
                               names=names)
        if csv_table:
            sys.stdout.write(engagement.to_csv(result, csv_table, bom=bom))
            return
    except (CoachError, ValueError) as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    if json_output:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    period = result["period"]
    scope = ", ".join(filter(None, [", ".join(period["team"]) or "everyone", period["competency"]]))
    console.print(f"Impact, {scope}: {period['since'][:10]} to {period['until'][:10]} (UTC)", markup=False)
    for name, table in result["tables"].items():
        keep = TERMINAL["effect"] if name.startswith("effect_") else [c["key"] for c in table["columns"]
                                                                       if c["key"] not in IDS]
        narrow = {**table, "columns": [c for c in table["columns"] if c["key"] in keep]}
        _print(name, narrow, settings.privacy_min_group, SHARES)  # its totals are counts and hours
        if table.get("method"):
            console.print(f"How: {table['method']}", style="dim", markup=False, highlight=False)


def _print(name: str, table: dict, min_group: int, shares: tuple[str, ...] = (*SHARES, "value")) -> None:
    hidden = (f"{table['hidden_rows']} row(s) with fewer than {min_group} people not shown"
              if table["hidden_rows"] else "")
    if not table["rows"]:
        console.print(f"\n{table['title']}: nothing to show{f' ({hidden})' if hidden else ''}.", markup=False)
        return
    out = Table(title=f"{table['title']} ({name})", caption=hidden or None, title_justify="left")
    numeric = {c["key"] for c in table["columns"] if all(isinstance(r.get(c["key"]), (int, float, type(None)))
                                                          for r in table["rows"])}
    for column in table["columns"]:
        out.add_column(column["label"], justify="right" if column["key"] in numeric else "left")
    for row in table["rows"]:
        out.add_row(*(_cell(column["key"], row.get(column["key"]), shares) for column in table["columns"]))
    console.print(out)


def _cell(key: str, value: object, shares: tuple[str, ...]) -> str:
    """Shares as percentages, no value as a dash, text escaped so rich prints it as typed (no markup)."""
    from rich.markup import escape

    if value is None:
        return "-"
    if isinstance(value, float) and key in shares:
        return f"{value:.0%}"
    return escape(str(value))


def _open():
    """The database (migrated, as every command does), the settings, and competency id -> name."""
    from coach.competencies import Framework
    from coach.settings import Settings
    from kernel.store import make_engine
    from coach.store.db import migrate

    try:
        settings = Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        names = {c.id: c.name for c in Framework.load(settings.competencies_file).competencies}
    except CoachError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    return engine, settings, names
