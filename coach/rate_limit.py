"""A per-learner limit on questions: a sliding window kept in memory (one process answers a learner's burst)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable

SLOW_DOWN = "You're asking faster than I can read the content: give me a minute, then ask again."


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._asked: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, learner_id: str) -> bool:
        """Counts the question when it is allowed; a limit of 0 or less turns limiting off."""
        if self.per_minute <= 0:
            return True
        now = self.clock()
        with self._lock:
            asked = self._asked[learner_id]
            while asked and asked[0] <= now - 60:
                asked.popleft()
            if len(asked) >= self.per_minute:
                return False
            asked.append(now)
            if len(self._asked) > 10_000:  # drop learners who have been quiet for a minute
                for quiet in [k for k, v in self._asked.items() if not v or v[-1] <= now - 60]:
                    del self._asked[quiet]
            return True
