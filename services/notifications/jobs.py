"""The notifications service's background work: the periodic refresh of the gauges (poll queue depth per bucket,
pending mails), and the settlement of the acks recorded in poll heads (poll_settlement.py): after each ack, and a
sweep of every head at start-up and periodically. Every replica does both: the gauges are read-only, and settling a
head twice at once is safe (one transaction is retried and finds nothing left), so no lease is needed."""

from __future__ import annotations

from services.notifications.service import notifications_of
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext


async def start_jobs(ctx: ServiceContext) -> None:
    app = notifications_of(ctx)
    start_periodic(ctx, "notifications-gauges", app.settings.gauges_interval_seconds, each_round=app.refresh_gauges)


async def stop_jobs(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "notifications-gauges")


async def start_settlement(ctx: ServiceContext) -> None:
    """Before the poll responder: the first sweep (now, in the background) settles what a crashed process left."""
    app = notifications_of(ctx)
    app.settlement.start()
    start_periodic(ctx, "poll-ack-sweep", app.settings.poll_settle_sweep_seconds, each_round=app.settlement.sweep)


async def stop_settlement(ctx: ServiceContext) -> None:
    """After the poll responder: what its last acks recorded is settled before the process ends."""
    await stop_periodic(ctx, "poll-ack-sweep")
    await notifications_of(ctx).settlement.stop()
