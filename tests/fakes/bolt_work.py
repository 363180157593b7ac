"""Knows when the Slack app has finished with what it was sent, so a test waits for that instead of sleeping and
hoping that nothing more would come. Bolt acknowledges an event at once and runs its listener afterwards; this
records each request that passed Bolt's own checks (a global middleware, after signature, authorization and the
coach's own messages are dealt with), each listener run that ended (the listener runner's completion handler),
and each lazy listener (`lazy=[...]`) from start to end (the lazy listener runner, swapped the way Bolt's own FaaS
adapters swap it). All three are public extension points of slack_bolt's AsyncApp."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from urllib.parse import parse_qsl

from slack_bolt.async_app import AsyncApp
from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.async_runner import AsyncLazyListenerRunner
from slack_bolt.listener.async_listener_completion_handler import AsyncListenerCompletionHandler


def key_of(body: dict) -> str:
    """What names one request: an event's id, a command's or a click's trigger id, a submitted view's id."""
    return str(body.get("event_id") or body.get("trigger_id") or (body.get("view") or {}).get("id") or "")


def key_of_raw(raw: str, content_type: str) -> str:
    if content_type.startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            return ""
        return key_of(body) if isinstance(body, dict) else ""
    form = dict(parse_qsl(raw))
    if "payload" in form:
        try:
            form = json.loads(form["payload"])
        except ValueError:
            return ""
    return key_of(form) if isinstance(form, dict) else ""


class BoltWork:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.accepted: Counter[str] = Counter()  # passed Bolt's checks
        self.expected: Counter[str] = Counter()  # accepted and acknowledged with 200: a listener runs for it
        self.finished: list[str] = []  # listener runs that ended, in order
        self.lazy_running: Counter[str] = Counter()

    @classmethod
    def install(cls, bolt: AsyncApp) -> "BoltWork":
        work = cls()

        async def passed_checks(body, next):  # noqa: A002 - Bolt injects arguments by these names
            with work._changed:
                work.accepted[key_of(body)] += 1
            await next()

        bolt.use(passed_checks)
        runner = bolt.listener_runner
        runner.listener_completion_handler = _Finished(work)
        runner.lazy_listener_runner = _Lazy(work, runner.lazy_listener_runner.logger)
        return work

    @staticmethod
    def of(bolt: AsyncApp) -> "BoltWork":
        return bolt.listener_runner.listener_completion_handler.work

    def acknowledged(self, key: str) -> None:
        """The test got Bolt's 200 for this request: if it passed the checks, a listener was started for it."""
        with self._changed:
            if self.accepted[key] > self.expected[key]:
                self.expected[key] += 1

    def _done(self, key: str, lazy: bool = False) -> None:
        with self._changed:
            if lazy:
                self.lazy_running[key] -= 1
            else:
                self.finished.append(key)
            self._changed.notify_all()

    def idle(self) -> bool:
        done = Counter(self.finished)
        return all(done[key] >= n for key, n in self.expected.items()) and not +self.lazy_running

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until every request acknowledged so far has been handled to its end (lazy listeners included)."""
        with self._changed:
            if not self._changed.wait_for(self.idle, timeout=timeout):
                raise AssertionError(f"the Slack app never finished: expected {dict(self.expected)}, finished "
                                     f"{self.finished}, lazy still running {dict(+self.lazy_running)}")


class _Finished(AsyncListenerCompletionHandler):
    def __init__(self, work: BoltWork) -> None:
        self.work = work

    async def handle(self, request, response) -> None:
        self.work._done(key_of(request.body))


class _Lazy(AsyncLazyListenerRunner):
    def __init__(self, work: BoltWork, logger) -> None:
        self.work, self.logger = work, logger

    def start(self, function, request) -> None:
        key = key_of(request.body)
        with self.work._changed:
            self.work.lazy_running[key] += 1

        async def run_to_its_end() -> None:
            try:  # as Bolt's AsyncioLazyListenerRunner.start runs it
                await to_runnable_function(internal_func=function, logger=self.logger, request=request)
            finally:
                self.work._done(key, lazy=True)

        asyncio.ensure_future(run_to_its_end())
