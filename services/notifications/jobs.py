"""The periodic refresh of the gauges (poll queue depth per bucket, pending mails): every replica, read-only,
so no lease is needed."""

from __future__ import annotations

from services.notifications.service import notifications_of
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext


async def start_jobs(ctx: ServiceContext) -> None:
    app = notifications_of(ctx)
    start_periodic(ctx, "notifications-gauges", app.settings.gauges_interval_seconds, each_round=app.refresh_gauges)


async def stop_jobs(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "notifications-gauges")
