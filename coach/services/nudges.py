"""Nudge schedules as a web-admin account sees them. A manager account acts on its own schedules only (those it owns
under its e-mail or its chat profile's id: `accounts.schedule_owners`) and schedules as its linked chat profile; an
ld-admin sees and may act on every schedule but schedules none (it has no team). Chat connectors, where the manager
is the chat profile itself, use `coach/nudges/forms.py` directly."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach import accounts
from kernel.errors import Forbidden
from coach.learners import team_manager
from coach.nudges import schedules
from kernel.store import unit_of_work
from coach.store.models import Account, Learner, NudgeSchedule


def visible(engine: Engine, account: Account) -> list[NudgeSchedule]:
    """Every schedule for an ld-admin; the account's own otherwise; oldest first."""
    query = select(NudgeSchedule).order_by(NudgeSchedule.created_at)
    if account.role != accounts.ADMIN:
        query = query.where(NudgeSchedule.owner.in_(sorted(accounts.schedule_owners(account))))
    with unit_of_work(engine) as db:
        return list(db.exec(query).all())


def scheduling_profile(engine: Engine, account: Account) -> Learner | None:
    """The chat profile a manager account schedules as (its team, its time zone); None when the account is no
    manager's, or is not linked to a profile that manages a team."""
    if account.role != "manager" or not account.learner_id:
        return None
    return team_manager(engine, account.learner_id)


def schedule_for(engine: Engine, account: Account, schedule_id: str) -> NudgeSchedule:
    """The schedule when this account may act on it (NotFound, from schedules.get, when there is none); Forbidden
    when it is someone else's (which an edge should answer as if it did not exist, after recording the attempt)."""
    schedule = schedules.get(engine, schedule_id)
    if account.role != accounts.ADMIN and schedule.owner not in accounts.schedule_owners(account):
        raise Forbidden("another manager's nudge schedule")
    return schedule
