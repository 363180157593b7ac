"""A fake of the ChatModel port (coach/ports.py) that records state, after simonw/llm's MockModel: the test
enqueues what the model answers (a text, or an exception such as ModelUnavailable to raise), and `history` keeps
every call it received, in order."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from coach.ports import Completion


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    budget_s: float
    streamed: bool  # the caller asked for the text as it is written (`on_delta`)


class FakeChatModel:
    name = "fake-chat"

    def __init__(self) -> None:
        self._answers: deque[str | BaseException] = deque()
        self.history: list[Prompt] = []

    def enqueue(self, *answers: str | BaseException) -> "FakeChatModel":
        self._answers.extend(answers)
        return self

    @property
    def pending(self) -> int:
        return len(self._answers)

    def complete(self, system: str, user: str, *, on_delta: Callable[[str], None] | None = None,
                 budget_s: float = 20.0, cancel=None) -> Completion:
        self.history.append(Prompt(system, user, budget_s, on_delta is not None))
        if not self._answers:
            raise AssertionError(f"the fake model was asked without an answer enqueued: {user!r}")
        answer = self._answers.popleft()
        if isinstance(answer, BaseException):
            raise answer
        if on_delta:  # as an OpenAI-compatible stream arrives: the text so far, word by word
            words = answer.split(" ")
            for n in range(1, len(words) + 1):
                on_delta(" ".join(words[:n]))
        return Completion(answer, input_tokens=len((system + user).split()), output_tokens=len(answer.split()))
