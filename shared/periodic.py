"""A service's periodic background work: one loop started with the service and cancelled at shutdown.

Work that writes runs under a lease (shared/mongo/outbox.py Lease), so one replica does it at a time;
the other replicas may do read-only work meanwhile (refresh their gauges), and every replica may do some
each round. A failed round is logged and tried again at the next interval: one error never ends the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from shared.mongo.outbox import Lease
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
Work = Callable[[], Awaitable[Any]]


async def _attempt(name: str, what: str, work: Work) -> None:
    try:
        await work()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s: %s failed; tried again at the next interval", name, what)


def start_periodic(ctx: ServiceContext, name: str, interval: float, *, leader: Work | None = None,
                   follower: Work | None = None, each_round: Work | None = None,
                   lease_for: timedelta | None = None, wait_first: bool = False) -> None:
    """Every `interval` seconds: `leader` on the replica holding the lease `name` (held for `lease_for`,
    3 intervals by default, renewed each round), `follower` on the others, then `each_round` everywhere.
    Without a leader there is no lease. `wait_first` lets the service settle (catch up with its queue)
    before the first round."""
    lease = None
    if leader is not None:
        lease = Lease(ctx.db, name, f"{ctx.settings.instance_id}:{id(ctx)}",
                      lease_for or timedelta(seconds=interval * 3))

    async def loop() -> None:
        while True:
            if wait_first:
                await asyncio.sleep(interval)
            if lease is not None and leader is not None:
                holds = False
                try:
                    holds = await lease.acquire()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s: could not take the lease; tried again at the next interval", name)
                if holds:
                    await _attempt(name, "the run", leader)
                elif follower is not None:
                    await _attempt(name, "the follower's round", follower)
            if each_round is not None:
                await _attempt(name, "the round", each_round)
            if not wait_first:
                await asyncio.sleep(interval)

    ctx.extras[f"periodic:{name}"] = (asyncio.create_task(loop(), name=name), lease)


async def stop_periodic(ctx: ServiceContext, name: str) -> None:
    """Cancel the loop and give its lease up, so another replica need not wait for it to lapse."""
    task, lease = ctx.extras.pop(f"periodic:{name}", (None, None))
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if lease is not None:
        try:
            await lease.release()
        except Exception:
            log.warning("%s: could not release the lease; it lapses by itself", name, exc_info=True)
