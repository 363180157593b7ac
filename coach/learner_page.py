"""A learner's own page (Slack's App Home, and any surface that wants one): what is due, what to learn next and why,
the questions they asked lately and how each ended, whether nudges are paused, and what the coach keeps.

Built from what "what do you know about me" and "what should I learn next" already know, without recording an offer:
looking at one's page is not being offered a lesson (offers are followed up the next day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coach import needs
from coach.i18n import _
from coach.lessons import catalog
from coach.lessons.service import Lessons

RECENT = 5


@dataclass(frozen=True)
class LessonLine:
    key: str
    title: str
    minutes: int
    reason: str


@dataclass(frozen=True)
class QuestionLine:
    asked_at: datetime
    question: str  # as logged: personal details already removed
    answered: bool
    feedback: str | None  # helpful | not_helpful | None


@dataclass(frozen=True)
class LearnerPage:
    name: str
    paused: bool
    due: list[LessonLine]
    suggested: list[LessonLine]
    recent: list[QuestionLine]
    kept_questions: int
    kept_lessons: int
    keeps_anything: bool


def page(lessons: Lessons, learner_id: str, now: datetime) -> LearnerPage:
    kept = needs.export(lessons.engine, learner_id, now)
    profile = kept["profile"] or {}
    open_to_them = {l.key: l for l in catalog.published(lessons.engine, profile.get("groups") or [])}
    due = [LessonLine(key, open_to_them[key].title, open_to_them[key].minutes, _("due for review"))
           for key in kept["lessons"]["due_now"] if key in open_to_them]
    suggestions = lessons.suggest(learner_id) or lessons.starters(learner_id, list(open_to_them.values()))
    suggested = [LessonLine(s.key, s.title, open_to_them[s.key].minutes, s.reason) for s in suggestions
                 if s.key in open_to_them and s.key not in kept["lessons"]["due_now"]]
    recent = [QuestionLine(datetime.fromisoformat(q["created_at"]), q["question"], q["answered"], q.get("feedback"))
              for q in kept["questions"][-RECENT:][::-1]]
    return LearnerPage(
        name=profile.get("display_name") or "", paused=bool(profile.get("paused")), due=due, suggested=suggested,
        recent=recent, kept_questions=len(kept["questions"]), kept_lessons=len(kept["lessons"]["lessons_done"]),
        keeps_anything=bool(profile or kept["questions"] or kept["lessons"]["lessons_done"] or kept["reachable_in"]))
