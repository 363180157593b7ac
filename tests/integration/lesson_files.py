"""Micro-lessons for tests, written as L&D writes them (Markdown with front matter)."""

from __future__ import annotations

from pathlib import Path

from coach.lessons import catalog
from coach.lessons.authoring import load_lessons

def lesson_file(key: str, title: str, competency: str, audience: str = "everyone", answer: int = 1) -> str:
    return f"""---
id: {key}
title: {title}
competency: [{competency}]
audience: [{audience}]
minutes: 2
question: Which is right about {title.lower()}?
options:
  - text: The first way
    feedback: Yes, that is how it works.
  - text: The second way
    feedback: No, that skips a step.
  - text: The third way
    feedback: No, that is the old process.
answer: {answer}
explanation: The first way is the one the policy describes.
sources: [security.txt, hr/salary.md]
---
{title}: the one thing to remember, explained in a few plain sentences so it fits in a chat message.
"""


LESSONS = {
    "report-phishing": ("Report phishing fast", "information-security", "everyone"),
    "training-budget": ("Spend your training budget", "learning-and-development", "everyone"),
    "merit-budget": ("Run the merit round", "people-management", "managers"),
    "customer-complaints": ("Handle a complaint", "customer-service", "everyone"),
}


def write_lessons(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for key, (title, competency, audience) in LESSONS.items():
        (root / f"{key}.md").write_text(lesson_file(key, title, competency, audience))
    return root


def load_test_lessons(container, tmp_path: Path) -> None:
    ids = {c.id for c in container.coach.framework.competencies}
    specs, problems = load_lessons(write_lessons(tmp_path / "lessons"), ids)
    assert not problems, problems
    catalog.save(container.engine, specs)
