"""The few numbers the web admin's home page shows each role: what waits for L&D; a manager's teams and schedules;
for a viewer, the month's questions only when enough people asked that nobody stands out (the privacy rule is
decided here, so no edge can show a smaller group by mistake)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import Integer, cast, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach import accounts
from coach.services.people import team_size
from kernel.store import unit_of_work, utcnow
from coach.store.models import Account, GapQuestion, Lesson, Need, NudgeSchedule

DAYS = 30  # the period the question counts cover


@dataclass(frozen=True)
class AdminOverview:
    sources: int
    drafts: int  # lessons waiting for approval
    unanswered: int  # questions the content could not answer in the period
    open_gaps: int  # clusters of such questions not closed yet


@dataclass(frozen=True)
class ManagerOverview:
    teams: list[tuple[str, int]]  # (team, people) for each team the account may see; empty when none is linked
    schedules: int  # the account's own nudge schedules


@dataclass(frozen=True)
class ViewerOverview:
    min_group: int
    questions: int | None  # None: fewer than min_group people asked, so nothing is shown
    answered: float | None  # the share answered from the content; None with no (shown) questions


def overview(engine: Engine, account: Account, *, min_group: int,
             count_sources: Callable[[], int]) -> AdminOverview | ManagerOverview | ViewerOverview:
    """The numbers for this account's role. `count_sources`: the knowledge base's count (its own tables)."""
    if account.role == accounts.ADMIN:
        return _for_admin(engine, count_sources)
    if account.role == "manager":
        teams = accounts.teams_of(engine, account) or []
        with unit_of_work(engine) as db:
            owned = db.exec(select(func.count()).where(
                NudgeSchedule.owner.in_(accounts.schedule_owners(account)))).one()
        return ManagerOverview(teams=[(team, team_size(engine, team)) for team in teams], schedules=owned)
    with unit_of_work(engine) as db:
        questions, people, answered = db.exec(select(
            func.count(), func.count(func.distinct(Need.learner_id)), func.sum(cast(Need.answered, Integer))).where(
            Need.created_at >= utcnow() - timedelta(days=DAYS))).one()
    if people < min_group:
        return ViewerOverview(min_group=min_group, questions=None, answered=None)
    return ViewerOverview(min_group=min_group, questions=questions,
                          answered=(answered or 0) / questions if questions else None)


def _for_admin(engine: Engine, count_sources: Callable[[], int]) -> AdminOverview:
    since = utcnow() - timedelta(days=DAYS)
    with unit_of_work(engine) as db:
        drafts = db.exec(select(func.count()).where(Lesson.status == "draft")).one()
        unanswered = db.exec(select(func.count()).where(Need.answered.is_(False), Need.created_at >= since)).one()
        gaps = db.exec(select(func.count(func.distinct(GapQuestion.cluster_id))).where(
            GapQuestion.closed_at.is_(None), GapQuestion.cluster_id != "")).one()
    return AdminOverview(sources=count_sources(), drafts=drafts, unanswered=unanswered, open_gaps=gaps)
