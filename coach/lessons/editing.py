"""Editing a lesson in a form (the web admin's lesson editor) under exactly the rules of authored Markdown lessons.

A form edit is written out as the authored Markdown format and read back with `authoring.parse_lesson`, so a lesson
saved or approved on a page passes the same checks as one loaded with `coach lessons load`, and one rule change
reaches both doors. The problems come back keyed by the form field they belong to, so a page can show each one
next to its field. A lesson's key never changes here: learners' progress and reviews hang on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import yaml
from sqlalchemy.engine import Engine

from kernel.errors import CoachError, NotFound
from coach.lessons import catalog
from coach.lessons.authoring import LessonError, LessonSpec, parse_lesson
from coach.store.models import Lesson
from kernel.store import as_utc

STATUSES = ("draft", "approved", "rejected")
NO_ANSWER = "Mark the option that is right."
# where a problem from authoring.parse_lesson belongs in the form: by how it starts, else by its first `field`
_STARTS = (("the lesson text", "body"), ("unknown competency", "competencies"), ("give `competency`", "competencies"),
           ("audience `", "audience"), ("option ", "options"), ("options ", "options"))
_FIELDS = {"title": "title", "question": "question", "explanation": "explanation", "competency": "competencies",
           "competencies": "competencies", "audience": "audience", "options": "options", "answer": "correct",
           "minutes": "minutes", "sources": "sources"}


class EditConflict(CoachError):
    """The lesson changed (someone else saved it) since this form was opened: saving would undo their change."""


@dataclass
class LessonEdit:
    """A lesson as a form holds it: text as typed, options as (text, feedback) rows, `correct` the 0-based row that
    is right (None: none marked), `minutes` as typed ("" = estimated from the words)."""

    title: str = ""
    body: str = ""
    question: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    correct: int | None = None
    explanation: str = ""
    competencies: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    minutes: str = ""
    sources: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, lesson: Lesson) -> "LessonEdit":
        options = [(str(o.get("text", "")), str(o.get("feedback") or "")) for o in lesson.options]
        correct = lesson.correct if 0 <= lesson.correct < len(options) else None
        return cls(title=lesson.title, body=lesson.body, question=lesson.question, options=options, correct=correct,
                   explanation=lesson.explanation, competencies=list(lesson.competencies),
                   audience=list(lesson.audience), minutes=str(lesson.minutes), sources=list(lesson.sources))

    def markdown(self, key: str) -> str:
        """The lesson in the authored Markdown format (examples/lessons/README.md): what parse_lesson reads, and
        what L&D can download to keep beside their other lessons."""
        data: dict = {"id": key, "title": self.title.strip()}
        if self.competencies:
            data["competency"] = list(self.competencies)
        if self.audience and list(self.audience) != ["everyone"]:
            data["audience"] = list(self.audience)
        minutes = self.minutes.strip()
        if minutes:
            data["minutes"] = int(minutes) if minutes.isdigit() else minutes
        data["question"] = self.question.strip()
        data["options"] = [{"text": text.strip(), **({"feedback": feedback.strip()} if feedback.strip() else {})}
                           for text, feedback in self.options]
        if self.correct is not None:
            data["answer"] = self.correct + 1
        data["explanation"] = self.explanation.strip()
        if self.sources:
            data["sources"] = list(self.sources)
        front = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        return f"---\n{front}---\n{self.body.strip()}\n"


def field_of(problem: str) -> str:
    """The form field a parse_lesson problem is about ("form" when it is about none of them)."""
    for start, name in _STARTS:
        if problem.startswith(start):
            return name
    named = re.match(r"`(\w+)`", problem)
    return _FIELDS.get(named.group(1), "form") if named else "form"


def check(key: str, edit: LessonEdit, competencies: set[str] | None) -> tuple[LessonSpec | None, dict[str, list[str]]]:
    """The lesson this edit makes, or the problems by field; `competencies`: the framework's ids (None: any)."""
    try:
        spec = parse_lesson(edit.markdown(key), f"{key}.md", competencies)
    except LessonError as exc:
        found: dict[str, list[str]] = {}
        for problem in exc.problems:
            name = field_of(problem)
            if name == "correct" and edit.correct is None:
                problem = NO_ANSWER
            found.setdefault(name, []).append(problem)
        return None, found
    return replace(spec, key=key), {}


def stamp(lesson: Lesson) -> str:
    """The version a form was opened at, to tell on saving whether someone else saved in between."""
    return as_utc(lesson.updated_at).isoformat()


def save(engine: Engine, *, key: str, edit: LessonEdit, competencies: set[str] | None, opened_at: str = "",
         status: str | None = None) -> tuple[Lesson | None, dict[str, list[str]]]:
    """Save the edit over lesson `key` (its origin kept; its status kept unless `status` is given), or return the
    problems by field and change nothing. `opened_at`: the `stamp` the form was opened at; when the lesson changed
    since, EditConflict."""
    lesson = catalog.get(engine, key)
    if lesson is None:
        raise NotFound(f"No lesson {key!r}: it may have been deleted.")
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if opened_at and opened_at != stamp(lesson):
        raise EditConflict("Someone else saved this lesson after you opened it. Copy what you changed, reload the "
                           "page, and make your change again.")
    spec, problems = check(key, edit, competencies)
    if problems:
        return None, problems
    catalog.save(engine, [spec], status=status or lesson.status, origin=lesson.origin)
    return catalog.get(engine, key), {}


def set_status(engine: Engine, *, key: str, status: str, competencies: set[str] | None) -> tuple[Lesson, dict]:
    """Approve, reject or send back to draft. Approving checks the stored lesson under the authoring rules first
    (a draft from any origin may be incomplete): with problems, nothing changes and they are returned by field."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    lesson = catalog.get(engine, key)
    if lesson is None:
        raise NotFound(f"No lesson {key!r}: the lessons page lists them.")
    if status == "approved":
        _, problems = check(key, LessonEdit.of(lesson), competencies)
        if problems:
            return lesson, problems
    return catalog.set_status(engine, key, status), {}

