"""A fake of the Delivery port (coach/ports.py) that records state: what reached whom under which key (`sent`),
with results a test scripts (throttled, refused) and what it answers when asked whether a key arrived."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from coach.messages import Reply
from coach.ports import SendResult


class Sent(NamedTuple):
    learner_id: str
    key: str
    reply: Reply

    @property
    def text(self) -> str:
        return self.reply.text


class RecordingDelivery:
    """`results`: what the next sends answer, in order (then delivered); only a delivered send is recorded.
    `knows`: key -> what `was_sent` says (missing: None, the platform cannot tell)."""

    platform = "test"

    def __init__(self, results: list[SendResult] | None = None, knows: dict[str, bool | None] | None = None,
                 *, latency_s: float = 0.01) -> None:
        self.results, self.knows, self.latency_s = list(results or []), dict(knows or {}), latency_s
        self.sent: list[Sent] = []

    async def send(self, learner_id: str, reply: Reply, key: str) -> SendResult:
        await asyncio.sleep(self.latency_s)  # a network round trip, so concurrent workers really overlap
        result = self.results.pop(0) if self.results else SendResult(True)
        if result.delivered:
            self.sent.append(Sent(learner_id, key, reply))
        return result

    async def was_sent(self, learner_id: str, key: str) -> bool | None:
        return self.knows.get(key)

    def to(self, learner_id: str) -> list[str]:
        """The texts that reached this learner, in order."""
        return [s.text for s in self.sent if s.learner_id == learner_id]
