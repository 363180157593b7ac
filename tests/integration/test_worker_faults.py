"""The worker outlives its database going away: PostgreSQL behind a proxy the test cuts (every connection dropped,
new ones refused) takes the dispatch lock with it; the worker stands by, and dispatches again once the database
answers and the lock is its own again. Another worker meanwhile could take the lock over: never both at once."""

from __future__ import annotations

import asyncio
import time

from coach.nudges.worker import DispatchLock, run_dispatcher
from coach.store.db import migrate
from kernel.store import make_engine
from tests.fakes.delivery import RecordingDelivery
from tests.integration.test_ops import proxied_postgres  # noqa: F401 - the fixture


def test_the_worker_stands_by_while_the_database_is_away_and_dispatches_again_after(tmp_path, proxied_postgres):
    url, proxy = proxied_postgres
    engine = make_engine(url)
    migrate(engine)
    states: list[tuple[float, str]] = []

    async def scenario() -> None:
        dispatching = asyncio.create_task(run_dispatcher(
            engine, tmp_path / "data", RecordingDelivery(), 3, sync_s=0.2,
            state=lambda now: states.append((time.monotonic(), now))))

        async def until(state: str, timeout: float = 30) -> None:
            deadline = time.monotonic() + timeout
            while not (states and states[-1][1] == state) and time.monotonic() < deadline:
                assert not dispatching.done(), dispatching
                await asyncio.sleep(0.05)
            assert states[-1][1] == state, states

        await until("dispatching")
        proxy.refuse()
        await until("standing_by")
        rival = DispatchLock(make_engine(url.replace(f"127.0.0.1:{proxy.port}", "127.0.0.1:5432")), tmp_path)
        assert await asyncio.to_thread(rival.try_acquire)  # the lock went with the dropped connection
        rival.release()
        await asyncio.sleep(1)
        assert not dispatching.done()  # still running, waiting for the database
        proxy.accept()
        await until("dispatching")
        dispatching.cancel()
        await asyncio.gather(dispatching, return_exceptions=True)

    asyncio.run(scenario())
    assert [s for _, s in states] == ["standing_by", "dispatching", "standing_by", "dispatching", "stopped"]
    engine.dispose()
