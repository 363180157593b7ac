"""Who can be reached and chosen: a manager's team as a list to pick people from, the channels the coach knows, and
which teams are big enough to report on. Slack, Teams and the web admin all offer the same choices, so they ask here
instead of each keeping its own copy of the query (the copies had started to differ)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import unit_of_work
from coach.store.models import ChatAddress, Learner


@dataclass(frozen=True)
class Person:
    id: str
    name: str  # the display name, or the id when the platform gave none


@dataclass(frozen=True)
class Channel:
    key: str  # the ChatAddress key, which a channel nudge is sent to
    name: str  # the conversation's name as the platform gave it, or the key


def team_members(engine: Engine, manager: Learner) -> list[Person]:
    """The people of the manager's team but the manager, by name: whom a nudge to chosen people may name."""
    with unit_of_work(engine) as db:
        members = db.exec(select(Learner).where(Learner.team == manager.team, Learner.id != manager.id)
                          .order_by(Learner.display_name, Learner.id)).all()
        return [Person(id=m.id, name=m.display_name or m.id) for m in members]


def channels(engine: Engine) -> list[Channel]:
    """Every channel the coach has met, in the order it met them."""
    with unit_of_work(engine) as db:
        found = db.exec(select(ChatAddress).where(ChatAddress.kind == "channel")).all()
        return [Channel(key=c.key, name=(c.reference.get("conversation") or {}).get("name") or c.key) for c in found]


def reportable_teams(engine: Engine, min_group: int) -> list[str]:
    """The teams with at least `min_group` people, by name: a smaller team's report would only be refused."""
    with unit_of_work(engine) as db:
        teams = db.exec(select(Learner.team).where(Learner.team != "").group_by(Learner.team)
                        .having(func.count() >= min_group).order_by(Learner.team)).all()
    return [team for team in teams if team]


def team_size(engine: Engine, team: str) -> int:
    with unit_of_work(engine) as db:
        return db.exec(select(func.count()).where(Learner.team == team)).one()
