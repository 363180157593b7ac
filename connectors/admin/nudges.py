"""The Nudges area. A manager sees and manages only their own schedules (`accounts.schedule_owners`): list, schedule
one with the same form as in Slack and Teams (coach/nudges/forms.py: its fields, its per-field problems, its save),
edit, pause / resume, delete after a confirmation. An ld-admin sees every schedule and may pause or delete one, but
schedules nothing here. Another manager's schedule answers 404, as if it did not exist. Every change is audited."""

from __future__ import annotations

from fastapi import Depends, Form, Path, Request
from fastapi.responses import RedirectResponse

from coach import accounts
from kernel.errors import Forbidden, NotFound
from coach.nudges import forms, schedules
from coach.nudges.forms import DAY_NAMES, MAX_MESSAGE, REPEATS, TARGETS, NudgeForm
from coach.services import people
from coach.services.nudges import schedule_for, scheduling_profile, visible
from coach.store.models import Account, Learner, NudgeSchedule
from connectors.admin.auth import PageRefused, actor_of, client_address, require
from connectors.admin.context import container_of, flash, flashed
from connectors.admin.shell import NavLink, page_router, render

router = page_router()
NAV = [NavLink("Nudges", "/admin/nudges", roles=("manager",), order=50)]
MANAGER = Depends(require("manager"))  # ld-admin passes too: it sees every schedule
SCHEDULE = Path(max_length=32, pattern="^[0-9a-f]+$")


def _engine(request: Request):
    return container_of(request).engine


def not_linked(account: Account) -> str:
    """What a manager account that cannot schedule yet is told, with how an admin fixes it."""
    if not account.learner_id:
        return (f"Your account is not linked to your chat profile, so there is no team to nudge yet. An L&D admin "
                f"links it with `coach users set-role {account.email} manager --learner LEARNER_ID` (your id in Slack "
                "or Teams), and makes that profile your team's manager with `coach learners set LEARNER_ID --role "
                "manager --team TEAM`.")
    return (f"Your account is linked to the chat profile {account.learner_id}, which is not a team's manager yet. An "
            f"L&D admin makes it one with `coach learners set {account.learner_id} --role manager --team TEAM`.")


def scheduling_manager(request: Request, account: Account) -> Learner:
    if account.role != "manager":
        raise PageRefused(403, "Managers schedule nudges for their teams; as an L&D admin you can see, pause and "
                               "delete every schedule on the Nudges page.")
    manager = scheduling_profile(_engine(request), account)
    if manager is None:
        raise PageRefused(403, not_linked(account))
    return manager


def own_schedule(request: Request, account: Account, schedule_id: str) -> NudgeSchedule:
    """The schedule when this account may act on it; 404 for one that does not exist or is someone else's (the
    attempt on someone else's is audited)."""
    try:
        return schedule_for(_engine(request), account, schedule_id)
    except Forbidden as exc:
        accounts.audit(_engine(request), actor=actor_of(request), action="access-denied", target=request.url.path,
                       address=client_address(request), detail=str(exc))
    except NotFound:
        pass
    raise PageRefused(404, "There is no such nudge schedule among yours. The Nudges page lists them.")


def audit(request: Request, action: str, schedule: NudgeSchedule) -> None:
    """Recorded without the message's text (it may name people): how often, to whom, which lesson."""
    rec = schedule.recurrence
    to = "a channel" if schedule.channel else f"team {schedule.team}" if schedule.team else \
        f"{len(schedule.learners)} people"
    detail = f"{rec.get('kind')} to {to}" + (f", lesson {schedule.lesson_key}" if schedule.lesson_key else "")
    accounts.audit(_engine(request), actor=actor_of(request), action=action, target=schedule.id,
                   address=client_address(request), detail=detail)


@router.get("/admin/nudges")
def nudges(request: Request, account: Account = MANAGER):
    engine = _engine(request)
    found = visible(engine, account)
    linked = account.role != "manager" or scheduling_profile(engine, account) is not None
    return render(request, "nudges.html", {
        "rows": [(schedule, forms.describe(schedule)) for schedule in found], "admin": account.role == accounts.ADMIN,
        "linked": linked, "not_linked": "" if linked else not_linked(account), **flashed(request)})


def form_page(request: Request, manager: Learner, form: NudgeForm, *, schedule: NudgeSchedule | None = None,
              problems: dict | None = None, status_code: int = 200):
    engine = _engine(request)
    return render(request, "nudge_form.html", {
        "form": form, "schedule": schedule, "problems": problems or {}, "manager": manager,
        "members": [(m.id, m.name) for m in people.team_members(engine, manager)],
        "lessons": forms.lesson_choices(engine),
        "channels": [(c.key, c.name) for c in people.channels(engine)],
        "targets": TARGETS, "repeats": REPEATS, "day_names": DAY_NAMES, "max_message": MAX_MESSAGE,
        "path": "/admin/nudges"}, status_code=status_code)


def nudge_form(message: str = Form("", max_length=20_000), lesson_key: str = Form("", max_length=120),
               target: str = Form("team", max_length=20), people: list[str] = Form([]),
               channel: str = Form("", max_length=250), repeat: str = Form("weekdays", max_length=20),
               date: str = Form("", max_length=10), time: str = Form("", max_length=8), days: list[str] = Form([]),
               cron: str = Form("", max_length=120), each_learners_zone: str = Form("", max_length=5)) -> NudgeForm:
    """The posted form as the core's NudgeForm (a dependency of the routes that take it)."""
    return NudgeForm(message=message, lesson_key=lesson_key, target=target, people=list(dict.fromkeys(people)),
                     channel=channel.strip(), repeat=repeat, date=date, time=time[:5], days=list(dict.fromkeys(days)),
                     cron=cron, each_learners_zone=each_learners_zone == "true")


POSTED = Depends(nudge_form)


@router.get("/admin/nudges/new")
def new(request: Request, account: Account = MANAGER):
    return form_page(request, scheduling_manager(request, account), NudgeForm(time="09:00"))


@router.post("/admin/nudges/new")
def create(request: Request, form: NudgeForm = POSTED, account: Account = MANAGER):
    manager = scheduling_manager(request, account)
    if problems := forms.problems(_engine(request), manager, form):
        return form_page(request, manager, form, problems=problems, status_code=422)
    schedule = forms.save(_engine(request), manager, form)
    audit(request, "nudge-created", schedule)
    flash(request, f"Scheduled: {forms.describe(schedule)}")
    return RedirectResponse("/admin/nudges", status_code=303)


@router.get("/admin/nudges/{schedule_id}")
def edit(request: Request, schedule_id: str = SCHEDULE, account: Account = MANAGER):
    manager = scheduling_manager(request, account)
    schedule = own_schedule(request, account, schedule_id)
    return form_page(request, manager, NudgeForm.of(schedule), schedule=schedule)


@router.post("/admin/nudges/{schedule_id}")
def change(request: Request, schedule_id: str = SCHEDULE, form: NudgeForm = POSTED, account: Account = MANAGER):
    manager = scheduling_manager(request, account)
    schedule = own_schedule(request, account, schedule_id)
    if problems := forms.problems(_engine(request), manager, form):
        return form_page(request, manager, form, schedule=schedule, problems=problems, status_code=422)
    # forms.save checks ownership by the chat profile's id; a schedule this account owns under its e-mail is saved
    # as its owner (own_schedule above has checked that it is this account's)
    owner = manager if schedule.owner == manager.id else manager.model_copy(update={"id": schedule.owner})
    schedule = forms.save(_engine(request), owner, form, schedule.id)
    audit(request, "nudge-changed", schedule)
    flash(request, f"Saved: {forms.describe(schedule)}")
    return RedirectResponse("/admin/nudges", status_code=303)


@router.post("/admin/nudges/{schedule_id}/pause")
def pause(request: Request, schedule_id: str = SCHEDULE, account: Account = MANAGER):
    return _pause(request, account, schedule_id, True)


@router.post("/admin/nudges/{schedule_id}/resume")
def resume(request: Request, schedule_id: str = SCHEDULE, account: Account = MANAGER):
    return _pause(request, account, schedule_id, False)


def _pause(request: Request, account: Account, schedule_id: str, paused: bool):
    schedule = own_schedule(request, account, schedule_id)
    schedule = schedules.set_paused(_engine(request), schedule.id, paused)
    audit(request, "nudge-paused" if paused else "nudge-resumed", schedule)
    flash(request, f"{'Paused' if paused else 'Resumed'}: {forms.describe(schedule)}")
    return RedirectResponse("/admin/nudges", status_code=303)


@router.get("/admin/nudges/{schedule_id}/delete")
def confirm_delete(request: Request, schedule_id: str = SCHEDULE, account: Account = MANAGER):
    schedule = own_schedule(request, account, schedule_id)
    return render(request, "nudge_delete.html", {"schedule": schedule, "description": forms.describe(schedule),
                                                 "path": "/admin/nudges"})


@router.post("/admin/nudges/{schedule_id}/delete")
def delete(request: Request, schedule_id: str = SCHEDULE, account: Account = MANAGER):
    schedule = own_schedule(request, account, schedule_id)
    description = forms.describe(schedule)
    schedules.delete(_engine(request), schedule.id)
    audit(request, "nudge-deleted", schedule)
    flash(request, f"Deleted: {description}")
    return RedirectResponse("/admin/nudges", status_code=303)
