"""Aggregates for managers: what their team asks about, never who asked what. A group smaller than `min_group`
people is not shown at all, and a topic fewer than `min_group` people asked about is folded into "other topics"."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.i18n import _, ngettext
from kernel.errors import Forbidden
from kernel.store import session, utcnow
from coach.store.models import Learner, Need

MIN_GROUP = 5


def team_needs(engine: Engine, team: str, days: int = 30, min_group: int = MIN_GROUP) -> dict:
    """Per topic: questions, how many people asked, share answered by the content, share rated helpful."""
    since = utcnow() - timedelta(days=days)
    with session(engine) as db:
        members = set(db.exec(select(Learner.id).where(Learner.team == team)).all())
        needs = db.exec(select(Need).where(Need.learner_id.in_(members), Need.created_at >= since)).all() \
            if members else []
    if len(members) < min_group:
        raise Forbidden(ngettext("{team} has fewer than {count} person: its needs are not shown, so nobody can be "
                                 "singled out.",
                                 "{team} has fewer than {count} people: its needs are not shown, so nobody can be "
                                 "singled out.", min_group).format(team=team, count=min_group))
    topics: dict[str, list[Need]] = defaultdict(list)
    for need in needs:
        for topic in need.topics or [_("untagged")]:
            topics[topic].append(need)
    rows, other = [], []
    for topic, items in topics.items():
        if len({n.learner_id for n in items}) >= min_group:
            rows.append(_row(topic, items))
        else:
            other.extend(items)
    rows.sort(key=lambda row: -row["questions"])
    folded = len({n.learner_id for n in other}) >= min_group
    if folded:
        rows.append(_row(_("other topics"), other))
    return {"team": team, "days": days, "people": len(members), "topics": rows,
            "hidden_questions": 0 if folded else len(other)}


def _row(topic: str, items: list[Need]) -> dict:
    rated = [n for n in items if n.feedback]
    return {"topic": topic, "questions": len(items), "people": len({n.learner_id for n in items}),
            "answered": round(sum(n.answered for n in items) / len(items), 2),
            "helpful": round(sum(n.feedback == "helpful" for n in rated) / len(rated), 2) if rated else None}
