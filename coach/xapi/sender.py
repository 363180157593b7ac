"""Posts the outbox to the LRS: batches in order, backoff and `Retry-After` while it is down, a statement it
rejects set aside with its reason (the rest of the batch still goes), and nothing sent twice: whatever may have
reached the LRS without an answer (a crash, a timeout, a 5xx) is looked up by id before it is sent again."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Awaitable, Callable

from sqlalchemy.engine import Engine

from coach.ports import Lrs, LrsResult
from coach.xapi import outbox
from kernel.store import as_utc, utcnow

log = logging.getLogger(__name__)

BACKOFF_S = (2.0, 5.0, 15.0, 60.0, 300.0)  # by attempt, when the LRS gives no Retry-After
MAX_WAIT_S = 900.0
IDLE_S = 2.0  # how often an empty outbox is looked at again
FEW = 10  # in doubt: up to this many are looked up one by one, more in what the LRS stored since they were posted
SCAN_PAGES = 50
LOOKUPS_AT_ONCE = 8
CLOCK_SKEW = timedelta(minutes=2)  # the LRS's clock may run behind ours
PROBE_S = 2.0  # how often an LRS that is away is asked whether it is back
PRUNE_EVERY = timedelta(hours=1)
REJECTED = (400, 409, 413, 422)  # a statement the LRS will not take (409: it holds another with the same id)


async def run(engine: Engine, lrs: Lrs, *, batch: int = 200, idle_s: float = IDLE_S,
              sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Until cancelled (the dispatching worker runs it, the one sender of the deployment: what an earlier one left
    in flight is looked up at once)."""
    await asyncio.to_thread(outbox.orphan_all, engine)
    pruned = utcnow() - PRUNE_EVERY
    while True:
        try:
            await resolve_doubts(engine, lrs)
            sent, pause = await send_batch(engine, lrs, batch)
            if utcnow() - pruned >= PRUNE_EVERY:
                await asyncio.to_thread(outbox.prune, engine)
                pruned = utcnow()
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the sending for good
            log.exception("sending xAPI statements failed; trying again")
            sent, pause = 0, idle_s
        if pause:
            await wait_out(engine, lrs, pause, sleep)
        elif not sent:
            await sleep(idle_s)


async def wait_out(engine: Engine, lrs: Lrs, pause: float,
                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """The backoff, cut short once the LRS answers again (looked at every PROBE_S with a cheap request): then
    everything waiting is due at once. A pause the LRS asked for itself (Retry-After) is kept whole."""
    if pause < 0:  # Retry-After
        await sleep(-pause)
        return
    waited = 0.0
    while waited < pause:
        step = min(PROBE_S, pause - waited)
        await sleep(step)
        waited += step
        if await lrs.answers():
            await asyncio.to_thread(outbox.due_now, engine)
            return


async def send_batch(engine: Engine, lrs: Lrs, batch: int) -> tuple[int, float]:
    """One batch: how many statements it settled as sent, and how long to pause when the LRS is away (the whole
    outbox waits then, not only this batch; negative: a Retry-After the LRS gave, to be kept whole)."""
    rows = await asyncio.to_thread(outbox.claim, engine, batch)
    if not rows:
        return 0, 0.0
    return await _post(engine, lrs, rows)


async def _post(engine: Engine, lrs: Lrs, rows: list) -> tuple[int, float]:
    ids = [row.id for row in rows]
    result = await lrs.post([row.statement for row in rows])
    if result.stored:
        await asyncio.to_thread(outbox.settle, engine, ids, "sent")
        return len(ids), 0.0
    if result.status in REJECTED:
        if len(rows) > 1:  # find the one the LRS refuses: halves, down to single statements
            half = len(rows) // 2
            first, second = await _post(engine, lrs, rows[:half]), await _post(engine, lrs, rows[half:])
            return first[0] + second[0], max(first[1], second[1])
        reason = f"the LRS refused it ({result.status}): {result.reason}"
        log.warning("xAPI statement %s %s", ids[0], reason)
        await asyncio.to_thread(outbox.settle, engine, ids, "failed", reason=reason)
        return 0, 0.0
    wait = min(result.retry_after or BACKOFF_S[min(rows[0].attempts, len(BACKOFF_S)) - 1], MAX_WAIT_S)
    later = utcnow() + timedelta(seconds=wait)
    reason = f"{result.reason or 'the LRS did not answer'}; trying again in {wait:.0f} s"
    if result.reached:  # it may hold some of them now: look them up before sending again
        await asyncio.to_thread(outbox.settle, engine, ids, "sending", reason=reason, next_at=later)
    else:
        await asyncio.to_thread(outbox.settle, engine, ids, "queued", reason=reason, next_at=later)
    return 0, -wait if result.retry_after else wait


async def resolve_doubts(engine: Engine, lrs: Lrs) -> dict[str, int]:
    """Statements in doubt: the LRS has them (sent), has not (queued, sent with the next batch), or cannot say
    (left in doubt, asked again next time). Many at once are looked up in what the LRS stored since just before
    they were posted (a few requests); what that cannot settle, one by one."""
    rows = await asyncio.to_thread(outbox.in_doubt, engine)
    found: list[str] = []
    missing: list[str] = []
    if len(rows) > FEW:
        since = min((r.posted_at or r.created_at) for r in rows) - CLOCK_SKEW
        scanned = await lrs.stored_since(as_utc(since), SCAN_PAGES)
        if scanned is not None:
            stored, complete = scanned
            found = [r.id for r in rows if r.id in stored]
            missing = [r.id for r in rows if r.id not in stored] if complete else []
            rows = [] if complete else [r for r in rows if r.id not in stored]
    gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def look_up(row) -> tuple[str, bool | None]:
        async with gate:
            return row.id, await lrs.has(row.id)

    for statement_id, held in await asyncio.gather(*map(look_up, rows)):
        if held is not None:  # None: the LRS is away, ask again later
            (found if held else missing).append(statement_id)
    if found:
        await asyncio.to_thread(outbox.settle, engine, found, "sent", reason="confirmed by the LRS after a restart")
    if missing:
        await asyncio.to_thread(outbox.settle, engine, missing, "queued", next_at=utcnow())
    return {"sent": len(found), "queued": len(missing)}


def result_of(status: int | None, reason: str = "", retry_after: float | None = None) -> LrsResult:
    """The LRS's answer as a result (adapters share it): 200/204 stored; 5xx may have stored part of it."""
    return LrsResult(stored=status in (200, 204), status=status, retry_after=retry_after, reason=reason,
                     reached=status is not None and status >= 500)
