"""What the chat renderers are tested on: an answer that holds every Markdown construct the core writes (a quote
with a citation, a GFM table with citations in and after it, a list, bold), and a micro-lesson with a table, taught
through the real core (tests/unit/coach_rig.py), so its Markdown and its quiz actions are the ones learners get."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from coach.lessons import catalog
from coach.lessons.authoring import load_lessons
from coach.messages import Citation, Reply

WHEN = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)

ANSWER = """From the learning content:

> Employees who use their own vehicle for work trips get **EUR 0.23** per km. [1]

| Country | Vehicle | Rate |
| --- | :---: | ---: |
| Netherlands | Car, *motorbike* or bicycle | EUR 0.23 per km [2] |
| Belgium | | EUR 0.15 per km |

[2]

What to keep in mind:

- claim **within 30 days** [1]
- keep the receipts
"""

LESSON_KEY = "mileage-rates"
LESSON = f"""---
id: {LESSON_KEY}
title: Claim your mileage
competency: [information-security]
audience: [everyone]
minutes: 2
question: What do you get per km in the Netherlands?
options:
  - text: EUR 0.23
    feedback: Yes, that is the Dutch rate.
  - text: EUR 0.15
    feedback: No, that is the Belgian rate.
  - text: Nothing
    feedback: No, own-vehicle trips are paid per km.
answer: 1
explanation: The table gives EUR 0.23 per km for the Netherlands.
---
Trips in your **own vehicle** are paid per km:

| Country | Rate |
| --- | --- |
| Netherlands | EUR 0.23 per km |
| Belgium | EUR 0.15 per km |

Claim it in the expenses tool within 30 days.
"""


def citations() -> list[Citation]:
    return [Citation(n=1, source_id="travel", chunk_id="travel#1", title="Travel policy", where="p. 2",
                     link="https://lms.example.com/travel", updated_at=WHEN),
            Citation(n=2, source_id="rates", chunk_id="rates#1", title="Mileage rates", where="table 1",
                     link="https://lms.example.com/rates", updated_at=WHEN)]


def answer() -> Reply:
    return Reply(text=ANSWER, citations=citations(), need_id="n1")


def lesson(rig, folder: Path) -> Reply:
    """The lesson as the core starts it for a learner: Markdown text and one "answer" action per option."""
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "lessons" / f"{LESSON_KEY}.md").write_text(LESSON, encoding="utf-8")
    specs, problems = load_lessons(folder / "lessons", {c.id for c in rig.coach.framework.competencies})
    assert not problems, problems
    catalog.save(rig.engine, specs)
    return rig.coach.act("ana", "lesson", LESSON_KEY)


# Markdown a chat surface would show as typed: a table's pipes or rule, bold or strike markers, list or heading
# markers at the start of a line
RAW_MARKDOWN = re.compile(r"\||-{3,}|\*\*|~~|__|^\s*(?:[-+*]|#{1,6})\s", re.MULTILINE)


def raw_markdown(text: str) -> list[str]:
    return RAW_MARKDOWN.findall(text)
