"""Which teams' engagement and impact reports an account may see, so the page, the API and any other edge refuse
the same things: ld-admin and viewers see every team (and all teams at once); a manager only their own teams, one at
a time. The reports themselves, and their privacy rules, are `coach.engagement`'s."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from coach import accounts
from kernel.errors import Forbidden
from coach.services.people import reportable_teams
from coach.store.models import Account

UNLINKED = ("No team is linked to your account yet, so there is no report to show. An L&D admin links yours with "
            "`coach users set-role {email} manager --team TEAM`.")


def visible_teams(engine: Engine, account: Account) -> list[str] | None:
    """The teams this account may see reports of; None: every team (ld-admin and viewers, who see all reports)."""
    if account.role in (accounts.ADMIN, "viewer"):
        return None
    return accounts.teams_of(engine, account) or []


def scoped_team(engine: Engine, account: Account, team: str) -> str:
    """`team` ("" for every team) when this account may see it; Forbidden otherwise, saying what it may see."""
    team = team.strip()
    own = visible_teams(engine, account)
    if own is None:
        return team
    if not own:
        raise Forbidden(UNLINKED.format(email=account.email))
    if team not in own:
        asked = f"team {team}" if team else "every team at once"
        raise Forbidden(f"You may see the reports of your own team{'s' if len(own) > 1 else ''} only "
                        f"({', '.join(own)}), not of {asked}.")
    return team


def default_team(engine: Engine, account: Account) -> str:
    """What is shown before a team is chosen: every team, or a manager's first team."""
    own = visible_teams(engine, account)
    return own[0] if own else ""


def team_choices(engine: Engine, account: Account, min_group: int) -> list[tuple[str, str]]:
    """The team filter's options as (value, label): a manager's own teams; for the others every team big enough to
    report on (a smaller one would only be refused)."""
    own = visible_teams(engine, account)
    if own is not None:
        return [(team, team) for team in own]
    return [("", "Every team"), *((team, team) for team in reportable_teams(engine, min_group))]


def impact(engine: Engine, settings, *, days: int, team: str | list[str] | None, competency: str | None,
           names: dict[str, str]) -> dict:
    """The impact report (coach/engagement/impact.py) with the deployment's privacy threshold and minutes per
    question; the caller has checked the team against the account (`scoped_team`)."""
    from coach.engagement import impact as report

    return report.report(engine, days=days, team=team or None, competency=competency or None,
                         min_group=settings.privacy_min_group, minutes_per_question=settings.minutes_per_question,
                         names=names)


def demo_data_present(engine: Engine) -> bool:
    """Whether simulated history (`coach demo-data`) is in the database: the report pages then say so."""
    from coach import demo_data

    return demo_data.present(engine)
