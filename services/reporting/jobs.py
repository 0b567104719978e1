"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it
generates the daily reports when they are due (daily_due) and the quarterly report once after each
quarter ends. Every replica also refreshes reporting_daily_reports_age_seconds from the database.
Operators run either at once with POST /api/operator/reports/daily|quarterly; the runs themselves take a
lease (runs.py), so an operator's run and the job's never overlap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from services.reporting.periods import day_of, previous_quarter
from services.reporting.runs import RunInProgress
from services.reporting.service import reporting_of
from shared.clock import brussels
from shared.mongo.outbox import Lease
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def daily_due(now: datetime, generated_at: datetime | None, max_age: timedelta, daily_hour: int) -> bool:
    """By the age of the newest reports as stored, not by a calendar day remembered: due when there are none or
    they are `max_age` old (after downtime or failed runs too, at any hour), and once per Brussels day from
    `daily_hour` (a fresh cut at a known time, unless one ran earlier that day)."""
    if generated_at is None or now - generated_at >= max_age:
        return True
    return brussels(now).hour >= daily_hour and day_of(generated_at) != day_of(now)


async def run_due(ctx: ServiceContext) -> dict[str, str]:
    """What is due now, run: {"daily": day} and/or {"quarterly": quarter}. A kind another replica's run (an
    operator's) is busy with is left to the next round."""
    reporting = reporting_of(ctx)
    s = reporting.settings
    now = ctx.clock.now()
    ran: dict[str, str] = {}
    if daily_due(now, await reporting.daily_generated_at(), timedelta(hours=s.daily_max_age_hours), s.daily_hour):
        with contextlib.suppress(RunInProgress):
            await reporting.generate_daily()
            ran["daily"] = day_of(now)
    quarter = previous_quarter(now)
    if await reporting.job_marker("quarterly") != quarter:
        with contextlib.suppress(RunInProgress):
            await reporting.generate_quarterly(quarter)
            await reporting.set_job_marker("quarterly", quarter)
            ran["quarterly"] = quarter
    return ran


async def jobs_loop(ctx: ServiceContext) -> None:
    reporting = reporting_of(ctx)
    interval = reporting.settings.jobs_interval_seconds
    # a daily run takes minutes: the lease outlives it by far, and is renewed each round
    lease = Lease(ctx.db, "reporting-jobs", f"{ctx.settings.instance_id}:{id(ctx)}", timedelta(hours=1))
    ctx.extras["jobs_lease"] = lease
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
        try:
            await reporting.observe_daily_age()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not read the daily reports' age", exc_info=True)


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
    lease = ctx.extras.get("jobs_lease")
    if lease is not None:  # another replica (or a rebuild) need not wait for it to lapse
        try:
            await lease.release()
        except Exception:
            log.warning("could not release the reporting-jobs lease; it lapses by itself", exc_info=True)
