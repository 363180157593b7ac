"""Which earlier turns of a conversation a follow-up question is searched with.

Without a language model to rewrite "and for contractors?" into a standalone question, retrieval gets the question
plus context: the learner's two previous questions and the opening of the coach's last reply (which names the
subject). Measured on the multi-turn evaluation set (mtrag), see bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

PREVIOUS_QUESTIONS = 2
REPLY_CHARS = 200


@dataclass(frozen=True)
class Turn:
    speaker: str  # "learner" | "coach"
    text: str


def retrieval_context(history: Sequence[Turn]) -> list[str]:
    """`history` oldest first, without the question being asked now; returns the context turns, newest first."""
    questions = [t.text.strip() for t in history if t.speaker == "learner" and t.text.strip()]
    replies = [t.text.strip() for t in history if t.speaker == "coach" and t.text.strip()]
    context = questions[::-1][:PREVIOUS_QUESTIONS]
    if replies and REPLY_CHARS:
        context.append(replies[-1][:REPLY_CHARS])
    return context
