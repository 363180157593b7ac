"""`coach xapi`: the outbox of learning records to the company's LRS (coach/xapi/): what waits, what failed and
why, queue the failed again, or send what is due now without a worker. Only the database is opened."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from connectors.cli.common import console, errors

xapi_app = typer.Typer(help="Learning records (xAPI statements) to the company's LRS: status, retry, send.")


def _engine_and_settings():
    import click

    given = click.get_current_context(silent=True)
    if given is not None and given.find_root().obj is not None:
        container = given.find_root().obj
        return container.engine, container.settings
    from coach.settings import Settings
    from coach.store.db import migrate
    from kernel.store import make_engine

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return engine, settings


@xapi_app.command("status")
def status(json_output: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False) -> None:
    """Statements queued, in flight, sent and failed; the oldest waiting; the most frequent reasons."""
    from coach.xapi import outbox

    engine, settings = _engine_and_settings()
    result = {"endpoint": settings.xapi_endpoint or None, **outbox.status(engine)}
    if json_output:
        print(json.dumps(result, indent=2))
        return
    console.print(f"LRS: {escape(settings.xapi_endpoint)}" if settings.xapi_endpoint else
                  "LRS: off (set XAPI_ENDPOINT, XAPI_USERNAME and XAPI_PASSWORD to send learning records)")
    counts = result["counts"]
    console.print(" · ".join(f"{state}: {n}" for state, n in counts.items()))
    if result["oldest_waiting_s"] is not None:
        console.print(f"oldest waiting: {result['oldest_waiting_s']} s")
    console.print(f"last sent: {result['last_sent_at'] or 'never'}")
    if result["reasons"]:
        table = Table("state", "statements", "reason")
        for row in result["reasons"]:
            table.add_row(row["state"], str(row["count"]), escape(row["reason"]))
        console.print(table)
    if counts["failed"]:
        console.print("`coach xapi retry` queues the failed statements again once the cause is fixed.")


@xapi_app.command("retry")
def retry(ids: Annotated[Optional[list[str]], typer.Argument(help="Only these statement ids.")] = None) -> None:
    """Queue failed statements again (all, or these), to be sent at once."""
    from coach.xapi import outbox

    engine, _settings = _engine_and_settings()
    console.print(f"queued again: {outbox.retry(engine, ids or None)}")


@xapi_app.command("send")
def send() -> None:
    """Send what is due now and stop (the worker does this all the time; this is for a deployment without one,
    or to see an LRS's answer at once)."""
    from coach.xapi import outbox, sender
    from connectors.lrs import HttpLrs

    engine, settings = _engine_and_settings()
    lrs = HttpLrs.from_settings(settings)
    if lrs is None:
        errors.print("XAPI_ENDPOINT is not set: there is no LRS to send to.")
        raise typer.Exit(2)

    async def drain() -> tuple[int, float]:
        total, pause = 0, 0.0
        try:
            await sender.resolve_doubts(engine, lrs)
            while not pause:
                sent, pause = await sender.send_batch(engine, lrs, settings.xapi_batch)
                if not sent and not pause:
                    break
                total += sent
                errors.print(f"sent {total}", end="\r")
        finally:
            await lrs.close()
        return total, pause

    total, pause = asyncio.run(drain())
    counts = outbox.status(engine)["counts"]
    console.print(f"sent {total}; queued {counts['queued']}, failed {counts['failed']}")
    if pause:
        errors.print("The LRS is not taking statements now; they stay queued (`coach xapi status` says why).")
        raise typer.Exit(1)
