"""Answers written by a language model from the retrieved passages only, checked before a learner sees them.

The model may decline (NOT_COVERED): its judgement joins the retrieval scores' in the abstention decision. An
answer without valid [n] citations is malformed, and one that fails a check of coach/answer_checks.py (an echo of the
prompt, cut off or too long, numbers the passages do not have, sentences they do not support) is never shown either:
the extractive answer replaces it. Every exchange is recorded (template and version, model, chunk ids, tokens,
latency, outcome: answered, declined, malformed, echo, too_long, numbers, unsupported, unavailable, budget, busy,
cancelled, error) for later evaluation; never its text.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Sequence

from sqlalchemy.engine import Engine

from coach import answer_checks
from coach.extractive import Embed
from kernel.errors import CoachError, ModelUnavailable
from coach.i18n import ENGLISH_NAMES, current
from coach.ports import Cancel, ChatModel
from kernel.ports import Passage
from kernel.store import session
from coach.store.models import ModelExchange
from prompts import Template

DECLINE = "NOT_COVERED"
_MARKER = re.compile(r"\[(\d+)\]")


class MalformedAnswer(CoachError):
    """The model's answer may not be shown (its citations, or a check of coach/answer_checks.py, failed)."""


class AnswerWriter:
    def __init__(self, *, model: ChatModel, template: Template, engine: Engine, company: str, budget_s: float,
                 embed: Embed, support: float) -> None:
        self.model, self.template, self.engine = model, template, engine
        self.company, self.budget_s = company, budget_s
        self.embed, self.support = embed, support  # the answer-support check (coach/answer_checks.py)

    def write(self, question: str, context: Sequence[str], passages: Sequence[Passage],
              on_partial: Callable[[str], None] | None = None,
              cancel: Cancel | None = None) -> tuple[str, list[int]] | None:
        """(answer text, cited passage numbers), or None when the model says the passages do not answer."""
        # in the language the learner is spoken to (coach/i18n.py), whatever the passages' language
        language = ENGLISH_NAMES[current()]
        system = self.template.render(company=self.company, passages=render_passages(passages), language=language)
        user = question if not context else f"{question}\n\n(Earlier in this conversation: {' / '.join(context)})"
        started, outcome, completion, streamed = time.monotonic(), "error", None, 0
        try:
            completion = self.model.complete(system, user, on_delta=on_partial, budget_s=self.budget_s,
                                             cancel=cancel)
            text = completion.text.strip()
            if text.startswith(DECLINE):
                outcome = "declined"
                return None
            cited = sorted({int(n) for n in _MARKER.findall(text)})  # an empty answer is malformed, not a decline
            if completion.finish_reason != "length" and (not cited or any(n < 1 or n > len(passages) for n in cited)):
                outcome = "malformed"
                raise MalformedAnswer("the model's answer did not cite the passages correctly")
            rules = self.template.render(company=self.company, passages="", language=language)
            outcome = answer_checks.problem(
                text, rules=rules, passages=passages, cited=[n for n in cited if 1 <= n <= len(passages)],
                question=question, finish_reason=completion.finish_reason, embed=self.embed,
                support=self.support) or "answered"
            if outcome != "answered":
                raise MalformedAnswer(f"the model's answer failed the {outcome} check")
            return text, cited
        except ModelUnavailable as exc:
            outcome, streamed = exc.outcome, exc.output_tokens
            raise
        finally:
            self._record(passages, completion, streamed, outcome, time.monotonic() - started)

    def _record(self, passages, completion, streamed: int, outcome: str, seconds: float) -> None:
        with session(self.engine) as db:
            db.add(ModelExchange(template=self.template.name, template_version=self.template.version,
                                 model=self.model.name, chunk_ids=[p.chunk_id for p in passages],
                                 input_tokens=completion.input_tokens if completion else 0,
                                 output_tokens=completion.output_tokens if completion else streamed,
                                 latency_ms=round(seconds * 1000), outcome=outcome))
            db.commit()


def render_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] {p.title}" + (f" — {p.where}" if p.where else "") + f"\n<passage>\n{p.text}\n</passage>"
        for n, p in enumerate(passages, start=1)
    )
