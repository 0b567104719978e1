"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it
generates the daily reports when they are due (daily_due) and the quarterly report once after each
quarter ends. Every replica also refreshes reporting_daily_reports_age_seconds from the database.
Operators run either at once with POST /api/operator/reports/daily|quarterly; the runs themselves take a
lease (runs.py), so an operator's run and the job's never overlap."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from services.reporting.periods import day_of, previous_quarter
from services.reporting.runs import RunInProgress
from services.reporting.service import reporting_of
from shared.clock import brussels
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext


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


async def start_jobs(ctx: ServiceContext) -> None:
    reporting = reporting_of(ctx)
    if not reporting.settings.jobs_enabled:
        return

    async def run() -> None:
        await run_due(ctx)

    # first wait: after a start the consumer catches up with the queue before reports are cut; a daily run
    # takes minutes, so the lease outlives it by far (and is renewed each round)
    start_periodic(ctx, "reporting-jobs", reporting.settings.jobs_interval_seconds, leader=run,
                   each_round=reporting.observe_daily_age, lease_for=timedelta(hours=1), wait_first=True)


async def stop_jobs(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "reporting-jobs")
