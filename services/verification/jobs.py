"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it ends
the eID attempts abandoned at the provider (EID_TIMEOUT_MINUTES) and fails the cases whose registrant gave
no proof by the deadline; every replica refreshes its gauges.
Operators run it at once with POST /api/operator/verification/jobs/run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from services.verification.service import verification_of
from shared.mongo.outbox import Lease
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def jobs_loop(ctx: ServiceContext) -> None:
    verification = verification_of(ctx)
    interval = verification.settings.jobs_interval_seconds
    lease = Lease(ctx.db, "verification-jobs", f"{ctx.settings.instance_id}:{id(ctx)}", timedelta(seconds=interval * 3))
    while True:
        try:
            if await lease.acquire():
                await verification.run_due()
            else:
                await verification.refresh_gauges()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("verification job failed; retried at the next interval")
        await asyncio.sleep(interval)


async def start_jobs(ctx: ServiceContext) -> None:
    ctx.extras["jobs_task"] = asyncio.create_task(jobs_loop(ctx), name="verification-jobs")


async def stop_jobs(ctx: ServiceContext) -> None:
    task = ctx.extras.get("jobs_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
