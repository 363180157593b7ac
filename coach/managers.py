"""What a manager can say to the coach in any chat: set their team's focus competencies ("focus on customer
conversations and feedback"), and see what their team asks about ("what does my team ask about?", aggregates only).
Recognised only from managers, before a message is treated as a question; never logged as a need."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from coach import reports
from coach.competencies import Framework
from coach.i18n import _
from kernel.errors import Forbidden
from coach.learners import team_manager
from coach.messages import Reply
from kernel.store import session, utcnow
from coach.store.models import Learner, TeamFocus

_FOCUS = re.compile(r"^(?:set )?(?:our |my |the )?(?:team(?:'s)? )?focus(?: on| to|:)? (?P<what>.+)$|"
                    r"^(?:zet )?(?:de |ons |mijn )?(?:team)?focus(?: op|:)? (?P<wat>.+)$", re.I)
_NEEDS = re.compile(r"^(?:what does|what do) (?:my|our) team ask(?:s)? about\??$|^(?:my |our )?team(?:'s)? needs\??$|"
                    r"^(?:waar|wat) vraagt (?:mijn|ons) team (?:naar|over)\??$|"
                    r"^(?:de )?behoeften van (?:mijn|ons) team\??$",
                    re.I)


def intent_of(text: str) -> str | None:
    text = text.strip()
    return "focus" if _FOCUS.match(text) else "team_needs" if _NEEDS.match(text) else None


def _focus_of(text: str) -> str:
    match = _FOCUS.match(text.strip())
    return match["what"] or match["wat"]


def respond(engine: Engine, framework: Framework, learner_id: str, intent: str, text: str,
            min_group: int) -> Reply | None:
    """None when the learner is not a manager: then the message is an ordinary question."""
    manager = team_manager(engine, learner_id)
    if manager is None:
        return None
    if intent == "focus":
        return _focus(engine, framework, manager, _focus_of(text))
    try:
        result = reports.team_needs(engine, manager.team, 30, min_group)
    except Forbidden:  # said in the manager's language; the web admin shows the exception's English
        return Reply(text=_("{team} has fewer than {count} people: its needs are not shown, so nobody can be singled "
                            "out.").format(team=manager.team, count=min_group), mode="service")
    names = {c.id: c.name for c in framework.competencies}
    lines = [_("What {team} ({people} people) asked about in the last 30 days:").format(team=manager.team,
                                                                                       people=result["people"])]
    lines += [_("- **{topic}**: {questions} questions from {people} people, {answered} answered by the content").format(
        topic=names.get(r["topic"], r["topic"]), questions=r["questions"], people=r["people"],
        answered=f"{r['answered']:.0%}") for r in result["topics"]]
    if not result["topics"]:
        lines.append(_("- nothing that at least {count} people asked about yet").format(count=min_group))
    return Reply(text="\n".join(lines), mode="service")


def set_focus(engine: Engine, team: str, competencies: list[str], set_by: str) -> None:
    """The competencies a team should grow in now (used by suggestions); none clears it."""
    with session(engine) as db:
        focus = db.get(TeamFocus, team) or TeamFocus(team=team)
        focus.competencies, focus.set_by, focus.updated_at = competencies, set_by, utcnow()
        db.add(focus)
        db.commit()


def _focus(engine: Engine, framework: Framework, manager: Learner, what: str) -> Reply:
    wanted = [part.strip().lower() for part in re.split(r",| and | en |;", what) if part.strip()]
    chosen, unknown = [], []
    for part in wanted:
        match = next((c.id for c in framework.competencies if part in (c.id, c.name.lower())
                      or part in c.name.lower()), None)
        (chosen if match else unknown).append(match or part)
    if unknown or not chosen:
        known = ", ".join(c.name for c in framework.competencies)
        text = (_("I don't know {names} as a competency. Choose from: {known}.") if unknown else
                _("I don't know that as a competency. Choose from: {known}."))
        text = text.format(names=", ".join(unknown), known=known)
        return Reply(text=text, mode="service")
    set_focus(engine, manager.team, list(dict.fromkeys(chosen)), manager.id)
    names = ", ".join(c.name for c in framework.competencies if c.id in chosen)
    return Reply(text=_("{team} now focuses on {names}: I'll favour lessons on them when I suggest what to learn "
                        "next.").format(team=manager.team, names=names), mode="service")
