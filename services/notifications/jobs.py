"""The periodic refresh of the gauges (poll queue depth per bucket, pending mails): every replica, read-only,
so no lease is needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.notifications.service import notifications_of
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def gauges_loop(ctx: ServiceContext) -> None:
    app = notifications_of(ctx)
    while True:
        try:
            await app.refresh_gauges()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("refreshing the gauges failed; tried again at the next interval")
        await asyncio.sleep(app.settings.gauges_interval_seconds)


async def start_jobs(ctx: ServiceContext) -> None:
    ctx.extras["gauges_task"] = asyncio.create_task(gauges_loop(ctx), name="notifications-gauges")


async def stop_jobs(ctx: ServiceContext) -> None:
    task = ctx.extras.get("gauges_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
