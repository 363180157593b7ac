"""The core services the web admin and the Teams nudge card call (coach/services): the branches the admin's HTTP
tests do not reach, on a real SQLite database in tmp_path and without the embedding model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coach import accounts
from kernel.errors import Forbidden, NotFound
from coach.nudges import schedules
from coach.services import nudges, overview, people, reports
from kernel.store import make_engine, unit_of_work, utcnow
from coach.store.db import migrate
from coach.store.models import Account, ChatAddress, GapQuestion, Learner, Lesson, Need

WEEKDAYS = {"kind": "weekdays", "time": "09:00"}


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'coach.db'}")
    migrate(engine)
    return engine


def team(engine, name: str, size: int, manager: str = "") -> None:
    with unit_of_work(engine) as db:
        for n in range(size):
            db.add(Learner(id=f"{name}-{n}", team=name, display_name=f"{name.title()} {n}" if n else ""))
        if manager:
            db.add(Learner(id=manager, team=name, role="manager", display_name="Boss"))


def needs(engine, *learners: str, answered: bool = True, days_ago: int = 1) -> None:
    with unit_of_work(engine) as db:
        for n, learner in enumerate(learners):
            db.add(Need(id=f"{learner}-{n}-{days_ago}-{answered}", learner_id=learner, channel="dm", platform="web",
                        question="?", answered=answered, created_at=utcnow() - timedelta(days=days_ago)))


def manager_account(**kwargs) -> Account:
    return Account(email="max@example.com", role="manager", **kwargs)


# --- people -----------------------------------------------------------------------------------------------------------


def test_team_members_are_the_team_but_the_manager_named_or_by_id(engine):
    team(engine, "design", 3, manager="boss")
    team(engine, "sales", 2)
    boss = Learner(id="boss", team="design", role="manager")
    assert people.team_members(engine, boss) == [people.Person("design-0", "design-0"),
                                                 people.Person("design-1", "Design 1"),
                                                 people.Person("design-2", "Design 2")]


def test_channels_are_named_as_the_platform_named_them_or_by_key(engine):
    with unit_of_work(engine) as db:
        db.add(ChatAddress(key="teams:channel:19:a", platform="teams", kind="channel",
                           reference={"conversation": {"name": "Design news"}}))
        db.add(ChatAddress(key="slack:T1:C2", platform="slack", kind="channel", reference={}))
        db.add(ChatAddress(key="teams:personal:u1", platform="teams", kind="personal", learner_id="u1"))
    assert sorted(people.channels(engine), key=lambda c: c.key) == [
        people.Channel("slack:T1:C2", "slack:T1:C2"), people.Channel("teams:channel:19:a", "Design news")]


def test_only_teams_big_enough_are_reportable(engine):
    team(engine, "design", 5)
    team(engine, "sales", 4)
    assert people.reportable_teams(engine, 5) == ["design"]
    assert people.reportable_teams(engine, 4) == ["design", "sales"]
    assert people.team_size(engine, "sales") == 4 and people.team_size(engine, "nobody") == 0


# --- overview ---------------------------------------------------------------------------------------------------------


def test_the_admin_overview_counts_what_waits_for_l_and_d(engine):
    needs(engine, "a", "b", answered=False)
    needs(engine, "c", answered=False, days_ago=40)  # outside the period
    with unit_of_work(engine) as db:
        db.add(Lesson(key="draft-1", title="D", body="b", question="q", status="draft"))
        db.add(Lesson(key="live-1", title="L", body="b", question="q"))
    with unit_of_work(engine) as db:
        for need_id, cluster, closed in (("a-0-1-False", "c1", None), ("b-1-1-False", "c1", None),
                                         ("c-0-40-False", "c2", utcnow())):
            db.add(GapQuestion(need_id=need_id, asked_at=utcnow(), model="m", vector=b"", cluster_id=cluster,
                               closed_at=closed))
    found = overview.overview(engine, Account(email="l@example.com", role=accounts.ADMIN), min_group=5,
                              count_sources=lambda: 7)
    assert found == overview.AdminOverview(sources=7, drafts=1, unanswered=2, open_gaps=1)


def test_a_manager_overview_counts_each_linked_team_and_their_own_schedules(engine):
    team(engine, "design", 3, manager="boss")
    schedules.create(engine, owner="boss", team="design", recurrence=WEEKDAYS, message="hi")
    schedules.create(engine, owner="max@example.com", team="design", recurrence=WEEKDAYS, message="hi")
    schedules.create(engine, owner="someone-else", team="design", recurrence=WEEKDAYS, message="hi")
    found = overview.overview(engine, manager_account(learner_id="boss", teams=["ops"]), min_group=5,
                              count_sources=lambda: 0)
    assert found == overview.ManagerOverview(teams=[("design", 4), ("ops", 0)], schedules=2)
    unlinked = overview.overview(engine, manager_account(), min_group=5, count_sources=lambda: 0)
    assert unlinked == overview.ManagerOverview(teams=[], schedules=1)  # the one it owns by e-mail


def test_a_viewer_sees_the_questions_only_when_enough_people_asked(engine):
    viewer = Account(email="v@example.com", role="viewer")
    needs(engine, "a", "b", "c", "d")
    needs(engine, "a", answered=False)
    hidden = overview.overview(engine, viewer, min_group=5, count_sources=lambda: 0)
    assert hidden == overview.ViewerOverview(min_group=5, questions=None, answered=None)
    shown = overview.overview(engine, viewer, min_group=4, count_sources=lambda: 0)
    assert shown == overview.ViewerOverview(min_group=4, questions=5, answered=0.8)
    assert overview.overview(engine, viewer, min_group=0, count_sources=lambda: 0) == overview.ViewerOverview(
        min_group=0, questions=5, answered=0.8)


def test_a_viewer_with_no_questions_and_no_threshold_gets_no_share(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    found = overview.overview(engine, Account(email="v@example.com", role="viewer"), min_group=0,
                              count_sources=lambda: 0)
    assert found == overview.ViewerOverview(min_group=0, questions=0, answered=None)


# --- nudges as an account sees them -------------------------------------------------------------------------------------


def test_an_account_acts_on_its_own_schedules_an_admin_on_all(engine):
    team(engine, "design", 2, manager="boss")
    own = schedules.create(engine, owner="boss", team="design", recurrence=WEEKDAYS, message="mine")
    by_mail = schedules.create(engine, owner="max@example.com", team="design", recurrence=WEEKDAYS, message="mine")
    other = schedules.create(engine, owner="zoe", team="design", recurrence=WEEKDAYS, message="theirs")
    manager, admin = manager_account(learner_id="boss"), Account(email="l@example.com", role=accounts.ADMIN)
    assert [s.id for s in nudges.visible(engine, manager)] == [own.id, by_mail.id]
    assert [s.id for s in nudges.visible(engine, admin)] == [own.id, by_mail.id, other.id]
    assert nudges.schedule_for(engine, manager, by_mail.id).id == by_mail.id
    assert nudges.schedule_for(engine, admin, other.id).id == other.id
    with pytest.raises(Forbidden):
        nudges.schedule_for(engine, manager, other.id)
    with pytest.raises(NotFound):
        nudges.schedule_for(engine, manager, "0" * 32)


def test_only_a_manager_account_linked_to_a_team_manager_schedules(engine):
    team(engine, "design", 1, manager="boss")
    assert nudges.scheduling_profile(engine, manager_account(learner_id="boss")).team == "design"
    assert nudges.scheduling_profile(engine, manager_account(learner_id="design-0")) is None  # not a manager
    assert nudges.scheduling_profile(engine, manager_account()) is None  # not linked
    assert nudges.scheduling_profile(engine, Account(email="l@example.com", role=accounts.ADMIN,
                                                     learner_id="boss")) is None


# --- which team's report ----------------------------------------------------------------------------------------------


def test_report_scoping_by_role(engine):
    team(engine, "design", 5)
    team(engine, "sales", 2)
    viewer, manager = Account(email="v@example.com", role="viewer"), manager_account(teams=["sales", "design"])
    assert reports.scoped_team(engine, viewer, " sales ") == "sales" and reports.scoped_team(engine, viewer, "") == ""
    assert reports.team_choices(engine, viewer, 5) == [("", "Every team"), ("design", "design")]
    assert reports.default_team(engine, viewer) == "" and reports.default_team(engine, manager) == "design"
    assert reports.team_choices(engine, manager, 5) == [("design", "design"), ("sales", "sales")]
    assert reports.scoped_team(engine, manager, "sales") == "sales"
    with pytest.raises(Forbidden, match="own teams only .design, sales., not of every team at once"):
        reports.scoped_team(engine, manager, "")
    with pytest.raises(Forbidden, match="not of team ops"):
        reports.scoped_team(engine, manager, "ops")
    with pytest.raises(Forbidden, match="No team is linked to your account"):
        reports.scoped_team(engine, manager_account(), "design")
