"""The lessons in the database: authored ones loaded from Markdown (approved on load), drafts waiting for L&D."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.store import session, utcnow
from coach.store.models import Lesson

if TYPE_CHECKING:
    from coach.lessons.authoring import LessonSpec


def save(engine: Engine, specs: list[LessonSpec], *, status: str = "approved", origin: str = "authored") -> dict:
    """Add or update lessons by key; returns {key: added | updated | unchanged}."""
    outcome = {}
    with session(engine) as db:
        for spec in specs:
            fields = dict(title=spec.title, body=spec.body, competencies=list(spec.competencies),
                          audience=list(spec.audience), minutes=spec.minutes, question=spec.question,
                          options=[{"text": o.text, "feedback": o.feedback} for o in spec.options],
                          correct=spec.correct, explanation=spec.explanation, sources=list(spec.sources),
                          status=status, origin=origin)
            lesson = db.get(Lesson, spec.key)
            if lesson is None:
                db.add(Lesson(key=spec.key, **fields))
                outcome[spec.key] = "added"
            elif all(getattr(lesson, name) == value for name, value in fields.items()):
                outcome[spec.key] = "unchanged"
            else:
                for name, value in fields.items():
                    setattr(lesson, name, value)
                lesson.updated_at = utcnow()
                db.add(lesson)
                outcome[spec.key] = "updated"
        db.commit()
    return outcome


def get(engine: Engine, key: str) -> Lesson | None:
    with session(engine) as db:
        return db.get(Lesson, key)


def published(engine: Engine, groups: list[str] | None = None) -> list[Lesson]:
    """Approved lessons this learner may see (`groups`: their audience groups; `everyone` is implied)."""
    allowed = {"everyone", *(groups or [])}
    with session(engine) as db:
        lessons = db.exec(select(Lesson).where(Lesson.status == "approved").order_by(Lesson.key)).all()
    return [lesson for lesson in lessons if allowed & set(lesson.audience)]


def listing(engine: Engine, status: str | None = None) -> list[Lesson]:
    with session(engine) as db:
        query = select(Lesson).order_by(Lesson.status, Lesson.key)
        return list(db.exec(query.where(Lesson.status == status) if status else query).all())


def set_status(engine: Engine, key: str, status: str) -> Lesson | None:
    with session(engine) as db:
        lesson = db.get(Lesson, key)
        if lesson is not None:
            lesson.status, lesson.updated_at = status, utcnow()
            db.add(lesson)
            db.commit()
            db.refresh(lesson)
        return lesson
