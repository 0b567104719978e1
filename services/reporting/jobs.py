"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it
generates the daily reports once per Brussels day (from DAILY_HOUR on, so they are never older than 24
hours) and the quarterly report once after each quarter ends.
Operators run either at once with POST /api/operator/reports/daily|quarterly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from services.reporting.periods import day_of, previous_quarter
from services.reporting.service import reporting_of
from shared.clock import brussels
from shared.mongo.outbox import Lease
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def run_due(ctx: ServiceContext) -> dict[str, str]:
    """What is due now, run: {"daily": day} and/or {"quarterly": quarter}."""
    reporting = reporting_of(ctx)
    now = ctx.clock.now()
    ran: dict[str, str] = {}
    today = day_of(now)
    if brussels(now).hour >= reporting.settings.daily_hour and await reporting.job_marker("daily") != today:
        await reporting.generate_daily()
        await reporting.set_job_marker("daily", today)
        ran["daily"] = today
    quarter = previous_quarter(now)
    if await reporting.job_marker("quarterly") != quarter:
        await reporting.generate_quarterly(quarter)
        await reporting.set_job_marker("quarterly", quarter)
        ran["quarterly"] = quarter
    return ran


async def jobs_loop(ctx: ServiceContext) -> None:
    reporting = reporting_of(ctx)
    interval = reporting.settings.jobs_interval_seconds
    # a daily run takes minutes: the lease outlives it by far, and is renewed each round
    lease = Lease(ctx.db, "reporting-jobs", f"{ctx.settings.instance_id}:{id(ctx)}", timedelta(hours=1))
    while True:
        # first wait: after a start the consumer catches up with the queue before reports are cut
        await asyncio.sleep(interval)
        try:
            if await lease.acquire():
                await run_due(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reporting job failed; retried at the next interval")


async def start_jobs(ctx: ServiceContext) -> None:
    if not reporting_of(ctx).settings.jobs_enabled:
        return
    ctx.extras["jobs_task"] = asyncio.create_task(jobs_loop(ctx), name="reporting-jobs")


async def stop_jobs(ctx: ServiceContext) -> None:
    task = ctx.extras.get("jobs_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
