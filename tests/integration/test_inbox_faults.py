"""The inbox through a database that goes away for a few seconds (PostgreSQL behind a proxy the test cuts): an event
handled meanwhile is recorded as done once the database is back, under a lease it kept, so nobody handles it again."""

from __future__ import annotations

import asyncio

from coach import inbox
from coach.inbox import Holder
from coach.store.db import migrate
from coach.store.models import InboxEvent
from kernel.store import make_engine, session
from tests.integration.test_ops import proxied_postgres  # noqa: F401 - the fixture


def test_an_event_handled_while_the_database_is_away_is_done_once_it_is_back(proxied_postgres):
    url, proxy = proxied_postgres
    engine = make_engine(url)
    migrate(engine)
    holder, rival = Holder(engine, "slack", lease_s=1.5), Holder(engine, "slack", lease_s=1.5)
    assert holder.accept("slack:EvOUTAGE", "{}")

    async def scenario() -> list:
        async def restore_soon() -> None:
            await asyncio.sleep(2.5)  # longer than the lease
            proxy.accept()

        restoring = asyncio.create_task(restore_soon())
        async with holder.holding("slack:EvOUTAGE"):
            proxy.refuse()  # the answer is posted while the database is away
        await restoring  # the exit waited for the database to record the event done
        return await asyncio.to_thread(inbox.take_over, engine, "slack", rival.owner, 1.5)

    assert asyncio.run(scenario()) == []  # nothing left for a rival to handle again
    with session(engine) as db:
        row = db.get(InboxEvent, "slack:EvOUTAGE")
    assert (row.state, row.attempts, row.payload) == ("done", 1, "")
    assert inbox.pending(engine) == 0
    engine.dispose()
