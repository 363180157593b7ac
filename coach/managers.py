"""What a manager can say to the coach in any chat: set their team's focus competencies ("focus on customer
conversations and feedback"), and see what their team asks about ("what does my team ask about?", aggregates only).
Recognised only from managers, before a message is treated as a question; never logged as a need."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from coach import reports
from coach.competencies import Framework
from kernel.errors import Forbidden
from coach.learners import team_manager
from coach.messages import Reply
from kernel.store import session, utcnow
from coach.store.models import Learner, TeamFocus

_FOCUS = re.compile(r"^(?:set )?(?:our |my |the )?(?:team(?:'s)? )?focus(?: on| to|:)? (?P<what>.+)$", re.I)
_NEEDS = re.compile(r"^(?:what does|what do) (?:my|our) team ask(?:s)? about\??$|^(?:my |our )?team(?:'s)? needs\??$",
                    re.I)


def intent_of(text: str) -> str | None:
    text = text.strip()
    return "focus" if _FOCUS.match(text) else "team_needs" if _NEEDS.match(text) else None


def respond(engine: Engine, framework: Framework, learner_id: str, intent: str, text: str,
            min_group: int) -> Reply | None:
    """None when the learner is not a manager: then the message is an ordinary question."""
    manager = team_manager(engine, learner_id)
    if manager is None:
        return None
    if intent == "focus":
        return _focus(engine, framework, manager, _FOCUS.match(text.strip())["what"])
    try:
        result = reports.team_needs(engine, manager.team, 30, min_group)
    except Forbidden as exc:
        return Reply(text=str(exc), mode="service")
    names = {c.id: c.name for c in framework.competencies}
    lines = [f"What {manager.team} ({result['people']} people) asked about in the last 30 days:"]
    lines += [f"- **{names.get(r['topic'], r['topic'])}**: {r['questions']} questions from {r['people']} people, "
              f"{r['answered']:.0%} answered by the content" for r in result["topics"]]
    if not result["topics"]:
        lines.append(f"- nothing that at least {min_group} people asked about yet")
    return Reply(text="\n".join(lines), mode="service")


def set_focus(engine: Engine, team: str, competencies: list[str], set_by: str) -> None:
    """The competencies a team should grow in now (used by suggestions); none clears it."""
    with session(engine) as db:
        focus = db.get(TeamFocus, team) or TeamFocus(team=team)
        focus.competencies, focus.set_by, focus.updated_at = competencies, set_by, utcnow()
        db.add(focus)
        db.commit()


def _focus(engine: Engine, framework: Framework, manager: Learner, what: str) -> Reply:
    wanted = [part.strip().lower() for part in re.split(r",| and |;", what) if part.strip()]
    chosen, unknown = [], []
    for part in wanted:
        match = next((c.id for c in framework.competencies if part in (c.id, c.name.lower())
                      or part in c.name.lower()), None)
        (chosen if match else unknown).append(match or part)
    if unknown or not chosen:
        known = ", ".join(c.name for c in framework.competencies)
        return Reply(text=f"I don't know {', '.join(unknown) or 'that'} as a competency. Choose from: {known}.",
                     mode="service")
    set_focus(engine, manager.team, list(dict.fromkeys(chosen)), manager.id)
    names = ", ".join(c.name for c in framework.competencies if c.id in chosen)
    return Reply(text=f"{manager.team} now focuses on {names}: I'll favour lessons on them when I suggest what to "
                      "learn next.", mode="service")
