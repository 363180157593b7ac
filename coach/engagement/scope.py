"""What a report covers (period, teams, competency) and the privacy rule every one of its rows obeys.

The rule is coach/reports.py's, for managers' team needs, applied to every table: a team smaller than `min_group`
people is refused outright, and a row (a day, a week, a topic, a kind of nudge) is shown only when at least
`min_group` different people stand behind it. Rows too small to show are either folded into one "other ..." row
(which is itself shown only when enough people stand behind it), or, for time series where "other days" means
nothing, left out; each table says how many rows it left out, never what was in them.

A day (questions) or week (lessons, reviews, nudges) that is hidden is left out of *every* table and total, not
only its own row: otherwise "the month's total minus the days shown", or "a topic's count minus ...", would give
back what the small day held. Within a day that is shown, a smaller group (one channel, one kind of nudge) is still
hidden from its own row, though the day's row counts it; what it is, nobody can tell from the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Callable, Hashable, Iterable, Sequence

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.errors import Forbidden
from coach.reports import MIN_GROUP
from kernel.store import as_utc, session
from coach.store.models import Learner

UNTAGGED = "untagged"  # the topic of a question the framework could not tag, as in coach/reports.py


@dataclass(frozen=True)
class Scope:
    """One report's filters. `teams` empty: everyone. Times are UTC; days and weeks are UTC days, weeks start on
    Monday (a per-viewer time zone would let two viewers see different buckets of the same people)."""

    since: datetime
    until: datetime
    teams: tuple[str, ...] = ()
    competency: str | None = None
    min_group: int = MIN_GROUP
    names: dict[str, str] = field(default_factory=dict)  # competency id -> name, for display

    def enough(self, people: Iterable) -> bool:
        return len(set(people)) >= self.min_group

    def within(self, when: datetime | None) -> bool:
        return when is not None and self.since <= as_utc(when) < self.until

    def name(self, competency: str) -> str:
        return self.names.get(competency, competency)

    def keeps(self, competencies: Iterable[str]) -> bool:
        """Whether something tagged with these competencies is in the report (always, without a competency filter)."""
        return self.competency is None or self.competency in competencies

    def members(self, statement, learner_column):
        """The statement restricted to the teams' current members (joined on the learner id, so a team of any size
        costs one query and no list of ids)."""
        if not self.teams:
            return statement
        return statement.join(Learner, Learner.id == learner_column).where(Learner.team.in_(self.teams))


def team_scope(engine: Engine, team: str | Sequence[str] | None, min_group: int) -> tuple[str, ...]:
    """The teams to report on, each checked on its own: a team smaller than `min_group` people is refused, also
    beside a big one (otherwise comparing "Big + Tiny" with "Big" would show Tiny)."""
    teams = tuple(dict.fromkeys(t.strip() for t in ([team] if isinstance(team, str) else team or []) if t.strip()))
    if not teams:
        return ()
    with session(engine) as db:
        sizes = dict(db.exec(select(Learner.team, func.count()).where(Learner.team.in_(teams))
                             .group_by(Learner.team)).all())
    small = [t for t in teams if sizes.get(t, 0) < min_group]
    if small:
        raise Forbidden(f"{', '.join(small)} {'has' if len(small) == 1 else 'have'} fewer than {min_group} people: "
                        "its reports are not shown, so nobody can be singled out.")
    return teams


def day(when: datetime) -> str:
    return as_utc(when).astimezone(UTC).date().isoformat()


def week(when: datetime) -> str:
    """The Monday (UTC) of the week `when` falls in, as an ISO date."""
    date = as_utc(when).astimezone(UTC).date()
    return (date - timedelta(days=date.weekday())).isoformat()


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


@dataclass
class Bucket:
    """Counts for one row and the people behind them (kept only to count them; never shown)."""

    people: set = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)

    def add(self, learner_id: str, **counts: int) -> None:
        self.people.add(learner_id)
        for name, value in counts.items():
            self.counts[name] += value

    def merge(self, other: "Bucket") -> None:
        self.people |= other.people
        self.counts.update(other.counts)


Row = Callable[[Hashable, Bucket], dict]


def visible(buckets: dict[Hashable, Bucket], scope: Scope, row: Row,
            shown: Callable[[Hashable], bool] = lambda key: True) -> tuple[list[dict], int]:
    """Rows for the buckets enough people stand behind (and `shown`, e.g. on a day shown), in key order; and how
    many were left out."""
    rows = [row(key, bucket) for key, bucket in sorted(buckets.items()) if scope.enough(bucket.people) and shown(key)]
    return rows, len(buckets) - len(rows)


def shown_keys(buckets: dict[Hashable, Bucket], scope: Scope) -> set:
    """The keys of the buckets enough people stand behind (the days or weeks a report may show)."""
    return {key for key, bucket in buckets.items() if scope.enough(bucket.people)}


def shown_total(buckets: dict[Hashable, Bucket], scope: Scope) -> Bucket:
    """The buckets enough people stand behind, added up: what a table's visible rows sum to."""
    total = Bucket()
    for bucket in buckets.values():
        if scope.enough(bucket.people):
            total.merge(bucket)
    return total


def folded(buckets: dict[str, Bucket], scope: Scope, row: Row, other: str, order: str) -> tuple[list[dict], int]:
    """Rows for the buckets enough people stand behind, biggest `order` count first; the rest folded into one
    `other` row when enough people stand behind them together (as coach/reports.py folds rare topics); and how
    many buckets ended up in no row at all."""
    shown, rest = [], Bucket()
    small = 0
    for key, bucket in sorted(buckets.items(), key=lambda item: (-item[1].counts[order], item[0])):
        if scope.enough(bucket.people):
            shown.append(row(key, bucket))
        else:
            rest.merge(bucket)
            small += 1
    if small and scope.enough(rest.people):
        shown.append(row(other, rest))
        small = 0
    return shown, small
