"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it
recalculates the limits once per Brussels day (the 00:00 run, or the first round after it) and ends
the blocks whose time is up (registrar.unblocked, EXPIRY). Every replica refreshes its blocked gauge.
Operators run it at once with POST /api/operator/hitpoints/jobs/run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from services.hitpoints.service import hitpoints_of
from shared.mongo.outbox import Lease
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def jobs_loop(ctx: ServiceContext) -> None:
    hitpoints = hitpoints_of(ctx)
    interval = hitpoints.settings.jobs_interval_seconds
    lease = Lease(ctx.db, "hitpoints-jobs", f"{ctx.settings.instance_id}:{id(ctx)}", timedelta(seconds=interval * 3))
    while True:
        try:
            if await lease.acquire():
                await hitpoints.run_due()
            else:
                await hitpoints.refresh_gauge()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("hitpoints job failed; retried at the next interval")
        await asyncio.sleep(interval)


async def start_jobs(ctx: ServiceContext) -> None:
    ctx.extras["jobs_task"] = asyncio.create_task(jobs_loop(ctx), name="hitpoints-jobs")


async def stop_jobs(ctx: ServiceContext) -> None:
    task = ctx.extras.get("jobs_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
