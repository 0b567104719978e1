"""Rebuild the read models by replaying the journal: `python -m services.reporting.rebuild` (same environment
as the service). It empties READ_MODELS and applies every journaled event again, in the order applied, with
the same handlers: the read models come out as the events made them (after a handler's fix, as the fixed
handler makes them). The journal, the processed-event records and the reports' records stay.

Nothing may apply events meanwhile (they would land in half-built read models, or be replayed twice): stop
the reporting service first (k8s: scale the Deployment to 0; compose: `docker compose stop reporting`).
Events published meanwhile wait in the durable queue and are applied when it starts again. The rebuild
refuses while the queue has a consumer or a report run holds its lease (runs.py), so no report is cut
from half-built read models.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

import aio_pika
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting import journal, runs
from services.reporting.metrics import ReportingMetrics
from services.reporting.readmodel import ReadModel
from services.reporting.settings import ReportingSettings
from services.reporting.store import READ_MODELS, REPORTING_INDEXES
from shared.clock import SystemClock
from shared.events import EventEnvelope
from shared.mongo.client import Document, connect
from shared.mongo.indexes import ensure_indexes
from shared.mongo.transactions import in_transaction

log = logging.getLogger(__name__)
BATCH = 100  # events per transaction, as the consumer applies them


class ServiceRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class Rebuilt:
    events: int
    seconds: float


async def replay(client: AsyncMongoClient[Document], db: AsyncDatabase[Document], read_model: ReadModel,
                 instance_id: str) -> Rebuilt:
    """Empty the read models and apply the journal again. Both report leases are held throughout."""
    started = time.monotonic()
    applied = 0
    async with runs.exclusive(db, "daily", instance_id), runs.exclusive(db, "quarterly", instance_id):
        for name in READ_MODELS:
            await db[name].delete_many({})
        async for chunk in journal.replay(db, BATCH):
            async def work(session: AsyncClientSession, events: list[EventEnvelope[Any]] = chunk) -> None:
                for event in events:
                    await read_model.apply(event, session)

            await in_transaction(client, work)
            applied += len(chunk)
    return Rebuilt(applied, time.monotonic() - started)


async def consumers(settings: ReportingSettings) -> int:
    """How many consumers the service's queue has (0 when it does not exist)."""
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(settings.queue_name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return 0
        return queue.declaration_result.consumer_count or 0


async def rebuild(settings: ReportingSettings) -> Rebuilt:
    if n := await consumers(settings):
        raise ServiceRunning(f"{settings.queue_name} has {n} consumer(s): stop the reporting service first")
    client = await connect(settings)
    try:
        db = client[settings.database_name]
        await ensure_indexes(db, REPORTING_INDEXES)
        read_model = ReadModel(lambda: db, ReportingMetrics(CollectorRegistry()), SystemClock(),
                               (settings.recurring_bounce_min_days, settings.recurring_bounce_max_days))
        return await replay(client, db, read_model, f"{settings.instance_id}:rebuild")
    finally:
        await client.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = ReportingSettings()
    try:
        done = asyncio.run(rebuild(settings))
    except (ServiceRunning, runs.RunInProgress) as exc:
        log.error("not rebuilt: %s", exc)
        return 1
    log.info("rebuilt %s from %d journaled events in %.1f s", settings.database_name, done.events, done.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
