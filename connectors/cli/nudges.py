"""`coach nudges ...` (managers' schedules) and `coach worker` (the one process per deployment that sends them).
Part of the `coach` command (connectors/cli/main.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import Annotated, Optional

import typer

from connectors.cli.common import container as _container, console, errors
from kernel.logs import configure as configure_logs
from kernel.errors import CoachError

nudges_app = typer.Typer(help="Managers' nudges: schedule a message or a lesson for a team or named people.",
                         no_args_is_help=True)


def recurrence_of(at: str | None, daily: str | None, weekdays: str | None, weekly: str | None,
                  cron: str | None) -> dict:
    given = [(k, v) for k, v in (("once", at), ("daily", daily), ("weekdays", weekdays), ("weekly", weekly),
                                 ("cron", cron)) if v]
    if len(given) != 1:
        raise CoachError("say when, once: --at 2026-12-01T09:00, --daily 09:00, --weekdays 09:00, "
                         "--weekly mon,thu@09:00 or --cron '0 9 * * 1-5'")
    kind, value = given[0]
    if kind == "once":
        return {"kind": "once", "at": value}
    if kind == "cron":
        return {"kind": "cron", "expr": value}
    if kind == "weekly":
        days, _, time = value.partition("@")
        return {"kind": "weekly", "days": days.split(","), "time": time or "09:00"}
    return {"kind": kind, "time": value}


@nudges_app.command("add")
def add(
    message: Annotated[str, typer.Option(help="What the learners read.")] = "",
    lesson: Annotated[str, typer.Option(help="A lesson key to send with it (`coach lessons list`).")] = "",
    team: Annotated[str, typer.Option(help="Everyone whose profile has this team.")] = "",
    learner: Annotated[Optional[list[str]], typer.Option("--learner", "-l", help="A learner id (repeatable).")] = None,
    channel: Annotated[str, typer.Option(help="Post once in this channel instead: slack:TEAM:CHANNEL or "
                                              "teams:channel:ID.")] = "",
    at: Annotated[Optional[str], typer.Option(help="Once, at this local time (2026-12-01T09:00).")] = None,
    daily: Annotated[Optional[str], typer.Option(help="Every day at HH:MM.")] = None,
    weekdays: Annotated[Optional[str], typer.Option(help="Monday to Friday at HH:MM.")] = None,
    weekly: Annotated[Optional[str], typer.Option(help="On these days at HH:MM: mon,thu@09:00.")] = None,
    cron: Annotated[Optional[str], typer.Option(help="A cron expression (day 0 = Sunday).")] = None,
    tz: Annotated[str, typer.Option(help="The time zone of the times above.")] = "UTC",
    each_learners_zone: Annotated[bool, typer.Option("--each-learners-zone", help="The times above in each learner's "
                                                     "own time zone (9:00 for everyone, wherever they are).")] = False,
    as_manager: Annotated[str, typer.Option("--as", help="The manager it is scheduled for (checked: a manager of the team).")] = "",
    grace: Annotated[int, typer.Option(help="Seconds a firing missed while the worker was down may still be sent.")] = 3600,
) -> None:
    """Schedule a nudge; the worker (`coach worker`) sends it inside each learner's allowed hours."""
    from coach.nudges import schedules

    container = _container()
    try:
        if as_manager:
            schedules.check_manager(container.engine, as_manager, team, learner or [])
        schedule = schedules.create(container.engine, owner=as_manager or "admin", team=team, learners=learner or [],
                                    channel=channel, message=message, lesson_key=lesson, timezone=tz, grace_s=grace,
                                    zone_mode="learner" if each_learners_zone else "schedule",
                                    recurrence=recurrence_of(at, daily, weekdays, weekly, cron))
    except CoachError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    console.print(f"Scheduled {schedule.id}: next at {schedules.next_time(schedule, schedule.created_at)}.",
                  markup=False)


@nudges_app.command("list")
def listing(as_manager: Annotated[str, typer.Option("--as", help="Only this manager's.")] = "",
            json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The schedules, with their recurrence, audience and state."""
    from coach.nudges import schedules

    found = schedules.of_owner(_container().engine, as_manager or None)
    if json_output:
        print(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
        return
    for s in found:
        to = s.channel or (f"team {s.team}" if s.team else ", ".join(s.learners))
        zone = "each learner's zone" if s.zone_mode == "learner" else s.timezone
        console.print(f"{s.id}  {'paused ' if s.paused else ''}{s.recurrence} {zone} -> {to}: "
                      f"{(s.message or s.lesson_key)[:60]}", markup=False)
    if not found:
        console.print("No nudges scheduled.")


@nudges_app.command("edit")
def edit(
    schedule_id: str,
    message: Annotated[Optional[str], typer.Option(help="New text.")] = None,
    lesson: Annotated[Optional[str], typer.Option(help="New lesson key ('' removes it).")] = None,
    at: Annotated[Optional[str], typer.Option(help="Once, at this local time.")] = None,
    daily: Annotated[Optional[str], typer.Option(help="Every day at HH:MM.")] = None,
    weekdays: Annotated[Optional[str], typer.Option(help="Monday to Friday at HH:MM.")] = None,
    weekly: Annotated[Optional[str], typer.Option(help="mon,thu@09:00.")] = None,
    cron: Annotated[Optional[str], typer.Option(help="A cron expression (day 0 = Sunday).")] = None,
    tz: Annotated[Optional[str], typer.Option(help="The time zone of its times.")] = None,
    grace: Annotated[Optional[int], typer.Option(help="Seconds a missed firing may still be sent.")] = None,
) -> None:
    """Change a schedule; its next firing follows the change."""
    from coach.nudges import schedules
    from kernel.store import utcnow

    try:
        when = recurrence_of(at, daily, weekdays, weekly, cron) if any((at, daily, weekdays, weekly, cron)) else None
        schedule = schedules.edit(_container().engine, schedule_id, message=message, lesson_key=lesson,
                                  recurrence=when, timezone=tz, grace_s=grace)
    except CoachError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    console.print(f"Changed {schedule.id}: next at {schedules.next_time(schedule, utcnow())}.", markup=False)


def _change(schedule_id: str, action) -> None:
    try:
        action(_container().engine, schedule_id)
    except CoachError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(1) from exc


@nudges_app.command("pause")
def pause(schedule_id: str) -> None:
    """Stop a schedule from firing until resumed."""
    from coach.nudges import schedules

    _change(schedule_id, lambda engine, sid: schedules.set_paused(engine, sid, True))
    console.print(f"paused {schedule_id}")


@nudges_app.command("resume")
def resume(schedule_id: str) -> None:
    """Let a paused schedule fire again (from its next planned time)."""
    from coach.nudges import schedules

    _change(schedule_id, lambda engine, sid: schedules.set_paused(engine, sid, False))
    console.print(f"resumed {schedule_id}")


@nudges_app.command("delete")
def delete(schedule_id: str) -> None:
    """Remove a schedule for good (what it already sent stays recorded)."""
    from coach.nudges import schedules

    _change(schedule_id, schedules.delete)
    console.print(f"deleted {schedule_id}")


def worker() -> None:
    """Send scheduled nudges (one worker per deployment dispatches; others stand by until it stops)."""
    from coach.nudges.worker import run_dispatcher
    from connectors.deliveries import for_worker
    from connectors.lrs import HttpLrs

    container = _container()
    settings = container.settings
    configure_logs(settings.log_format, settings.log_level)
    status = {"state": "starting"}

    async def until_stopped() -> None:
        """SIGTERM (a container stop, systemd) stops it as Ctrl-C does: the lock is released, the process exits 0."""
        dispatching = asyncio.ensure_future(run_dispatcher(container.engine, settings.data_dir, for_worker(container),
                                                           settings.nudges_per_day, say=console.print,
                                                           sync_s=settings.worker_sync_s,
                                                           lrs=HttpLrs.from_settings(settings),
                                                           xapi_batch=settings.xapi_batch,
                                                           state=lambda now: status.update(state=now)))
        serving = asyncio.ensure_future(serve_probes(container, lambda: status["state"]))
        for stop in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(stop, dispatching.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await dispatching
        serving.cancel()

    console.print("Worker started.")
    asyncio.run(until_stopped())
    console.print("Stopped.")


async def serve_probes(container, state) -> None:
    """/healthz, /readyz and /metrics on COACH_WORKER_PORT, for the orchestrator and Prometheus (0: none)."""
    import uvicorn

    from connectors.ops import worker_app

    settings = container.settings
    if not settings.worker_port:
        return
    class Probes(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # the worker's own signal handlers stop it, and this with it
            yield

    server = Probes(uvicorn.Config(worker_app(container, state), host=settings.host, port=settings.worker_port,
                                   log_config=None, lifespan="off"))
    console.print(f"Probes and metrics at http://{settings.host}:{settings.worker_port}/readyz and /metrics.")
    try:
        await server.serve()
    except (SystemExit, OSError) as exc:  # the port is taken: dispatching goes on without probes
        errors.print(f"[yellow]The worker's probes could not listen on port {settings.worker_port} ({exc}); set "
                     "COACH_WORKER_PORT to a free port, or 0 for none.[/yellow]")


def team_needs(
    team: Annotated[str, typer.Argument(help="The team (as in learners' profiles).")],
    days: Annotated[int, typer.Option(help="The period, in days.")] = 30,
    as_manager: Annotated[str, typer.Option("--as", help="The manager asking (checked: a manager of the team).")] = "",
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What a team asks about, by topic (aggregates only; groups under 5 people are never shown)."""
    from coach import reports
    from coach.nudges import schedules

    container = _container()
    try:
        if as_manager:
            schedules.check_manager(container.engine, as_manager, team, [])
        result = reports.team_needs(container.engine, team, days, container.settings.privacy_min_group)
    except CoachError as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    if json_output:
        print(json.dumps(result, indent=2))
        return
    console.print(f"{team}, last {days} days, {result['people']} people:", markup=False)
    for row in result["topics"]:
        helpful = f", {row['helpful']:.0%} helpful" if row["helpful"] is not None else ""
        console.print(f"  {row['topic']}: {row['questions']} questions from {row['people']} people, "
                      f"{row['answered']:.0%} answered{helpful}", markup=False)
    if result["hidden_questions"]:
        console.print(f"  ({result['hidden_questions']} questions on topics fewer than "
                      f"{container.settings.privacy_min_group} people asked about are not shown)", markup=False)
