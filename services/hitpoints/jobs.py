"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it
recalculates the limits once per Brussels day (the 00:00 run, or the first round after it) and ends
the blocks whose time is up (registrar.unblocked, EXPIRY). Every replica refreshes its blocked gauge.
Operators run it at once with POST /api/operator/hitpoints/jobs/run."""

from __future__ import annotations

from services.hitpoints.service import hitpoints_of
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext


async def start_jobs(ctx: ServiceContext) -> None:
    hitpoints = hitpoints_of(ctx)
    start_periodic(ctx, "hitpoints-jobs", hitpoints.settings.jobs_interval_seconds,
                   leader=hitpoints.run_due, follower=hitpoints.refresh_gauge)


async def stop_jobs(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "hitpoints-jobs")
