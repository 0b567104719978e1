"""The periodic job: every JOBS_INTERVAL_SECONDS, under a lease so one replica runs it at a time, it ends
the eID attempts abandoned at the provider (EID_TIMEOUT_MINUTES) and fails the cases whose registrant gave
no proof by the deadline; every replica refreshes its gauges.
Operators run it at once with POST /api/operator/verification/jobs/run."""

from __future__ import annotations

from services.verification.service import verification_of
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext


async def start_jobs(ctx: ServiceContext) -> None:
    verification = verification_of(ctx)
    start_periodic(ctx, "verification-jobs", verification.settings.jobs_interval_seconds,
                   leader=verification.run_due, follower=verification.refresh_gauges)


async def stop_jobs(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "verification-jobs")
