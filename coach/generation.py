"""Answers written by a language model from the retrieved passages only, checked before a learner sees them.

The model may decline (NOT_COVERED): its judgement joins the retrieval scores' in the abstention decision. An
answer without valid [n] citations is malformed and never shown; the extractive answer replaces it. Every exchange
is recorded (template and version, model, chunk ids, tokens, latency, outcome) for later evaluation.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Sequence

from sqlalchemy.engine import Engine

from kernel.errors import CoachError, ModelUnavailable
from coach.i18n import ENGLISH_NAMES, current
from coach.ports import ChatModel
from kernel.ports import Passage
from kernel.store import session
from coach.store.models import ModelExchange
from prompts import Template

DECLINE = "NOT_COVERED"
_MARKER = re.compile(r"\[(\d+)\]")


class MalformedAnswer(CoachError):
    pass


class AnswerWriter:
    def __init__(self, *, model: ChatModel, template: Template, engine: Engine, company: str, budget_s: float) -> None:
        self.model, self.template, self.engine = model, template, engine
        self.company, self.budget_s = company, budget_s

    def write(self, question: str, context: Sequence[str], passages: Sequence[Passage],
              on_partial: Callable[[str], None] | None = None) -> tuple[str, list[int]] | None:
        """(answer text, cited passage numbers), or None when the model says the passages do not answer."""
        # in the language the learner is spoken to (coach/i18n.py), whatever the passages' language
        system = self.template.render(company=self.company, passages=render_passages(passages),
                                      language=ENGLISH_NAMES[current()])
        user = question if not context else f"{question}\n\n(Earlier in this conversation: {' / '.join(context)})"
        started, outcome, completion = time.monotonic(), "error", None
        try:
            completion = self.model.complete(system, user, on_delta=on_partial, budget_s=self.budget_s)
            text = completion.text.strip()
            if text.startswith(DECLINE) or text == "":
                outcome = "declined"
                return None
            cited = sorted({int(n) for n in _MARKER.findall(text)})
            if not cited or any(n < 1 or n > len(passages) for n in cited):
                outcome = "malformed"
                raise MalformedAnswer("the model's answer did not cite the passages correctly")
            outcome = "answered"
            return text, cited
        except ModelUnavailable:
            outcome = "unavailable"
            raise
        finally:
            self._record(passages, completion, outcome, time.monotonic() - started)

    def _record(self, passages, completion, outcome: str, seconds: float) -> None:
        with session(self.engine) as db:
            db.add(ModelExchange(template=self.template.name, template_version=self.template.version,
                                 model=self.model.name, chunk_ids=[p.chunk_id for p in passages],
                                 input_tokens=completion.input_tokens if completion else 0,
                                 output_tokens=completion.output_tokens if completion else 0,
                                 latency_ms=round(seconds * 1000), outcome=outcome))
            db.commit()


def render_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] {p.title}" + (f" — {p.where}" if p.where else "") + f"\n<passage>\n{p.text}\n</passage>"
        for n, p in enumerate(passages, start=1)
    )
