"""A per-learner limit on questions, held by every app replica alike: the questions a learner asked in the last
minute are counted in the needs log (the database), and a sliding window in memory also counts those this process
let through and is still answering (not logged yet), so a burst sent at once is stopped too. A refused question is
not logged, so it does not count.

The web chat also limits questions per client address with a limiter of its own, in memory only (connectors/web/
limits.py): a browser that drops its learner cookie is a new learner each time, but not a new address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Callable

from coach.i18n import N_
from kernel.store import utcnow

SLOW_DOWN = N_("You're asking faster than I can read the content: give me a minute, then ask again.")

AskedSince = Callable[[str, datetime], int]  # (learner, since) -> questions logged since then


class RateLimiter:
    """At most `per_minute` questions per key (a learner id, or a client address) in any 60 s."""

    def __init__(self, per_minute: int, asked_since: AskedSince | None = None,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None) -> None:
        self.per_minute, self.asked_since, self.clock, self.now = per_minute, asked_since, clock, now or utcnow
        self._asked: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Counts the question when it is allowed; a limit of 0 or less turns limiting off."""
        if self.per_minute <= 0:
            return True
        if self.asked_since and self.asked_since(key, self.now() - timedelta(seconds=60)) >= self.per_minute:
            return False  # asked through other replicas (or before this process started)
        now = self.clock()
        with self._lock:
            asked = self._asked[key]
            while asked and asked[0] <= now - 60:
                asked.popleft()
            if len(asked) >= self.per_minute:
                return False
            asked.append(now)
            if len(self._asked) > 10_000:  # drop those who have been quiet for a minute
                for quiet in [k for k, v in self._asked.items() if not v or v[-1] <= now - 60]:
                    del self._asked[quiet]
            return True
