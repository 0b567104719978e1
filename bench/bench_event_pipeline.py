"""Events per second through the whole pipeline, next to the raw rate of the same broker, in one run.

  raw       persistent publishes with confirms (batches of OUTBOX_BATCH_SIZE in flight, as the relay does)
            into a quorum queue, consumed with manual acks at the same prefetch; nothing else
  pipeline  events already committed in a service's outbox -> relay (confirms) -> RabbitMQ quorum queue
            -> reporting's consumer -> MongoDB transaction (processed-event record + read-model update)
  outbox    the rate at which a service can commit one state change and its event (one transaction each)

Run: make bench  (or .venv/bin/python bench/bench_event_pipeline.py). BENCH_EVENTS sets the count.
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo.asynchronous.client_session import AsyncClientSession

from bench.report import emit
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.mongo.outbox import Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from tests.integration.infra import AMQP_URL, OPERATOR, delete_namespace, eventually, running

N = int(os.environ.get("BENCH_EVENTS", "3000"))
BATCH = int(os.environ.get("OUTBOX_BATCH_SIZE", "200"))
PREFETCH = int(os.environ.get("PREFETCH_COUNT", "200"))


async def raw_broker_rate(namespace: str) -> float:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.declare_queue(f"{namespace}.raw", durable=True, arguments={"x-queue-type": "quorum"})
        body = new_event(
            DomainCreated(name="raw.be", tld="be", registered_at=datetime.now(UTC)), registrar_id="a",
            correlation_id=None, clock=SystemClock(),
        ).to_json()
        received = 0
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == N:
                done.set()

        tag = await queue.consume(on_message)
        started = time.perf_counter()
        for first in range(0, N, BATCH):
            await asyncio.gather(*(
                channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(i)),
                    routing_key=queue.name,
                )
                for i in range(first, min(first + BATCH, N))
            ))
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        return N / elapsed


async def pipeline_rates(namespace: str) -> tuple[float, float]:
    app = build_reporting(ReportingSettings(namespace=namespace, log_level="WARNING", prefetch_count=PREFETCH,
                                            operator_token="operator-dev-token"))
    async with running(app) as reporting:
        ctx = app.state.ctx
        db = ctx.client[f"{namespace}_publisher"]
        outbox = Outbox(db)
        clock = SystemClock()

        # phase 1: commit N state changes with their events, one transaction each (as a command does)
        started = time.perf_counter()
        for i in range(N):
            event = new_event(
                DomainCreated(name=f"bench-{i}.be", tld="be", registered_at=clock.now()),
                registrar_id="a100001", correlation_id=None, clock=clock,
            )

            async def work(session: AsyncClientSession, event=event, i=i) -> None:
                await db["domains"].insert_one({"_id": f"bench-{i}.be"}, session=session)
                await outbox.add([event], session)

            await in_transaction(ctx.client, work)
        outbox_rate = N / (time.perf_counter() - started)

        # phase 2: relay and consume everything that is waiting
        relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="bench", batch_size=BATCH, poll_seconds=0.05)
        started = time.perf_counter()
        task = asyncio.create_task(relay.run())

        async def counted() -> int:
            return (await reporting.get("/api/portfolios/a100001", headers=OPERATOR)).json()["domains"]

        await eventually(counted, lambda n: n >= N, timeout=1800)
        pipeline_rate = N / (time.perf_counter() - started)
        await relay.stop()
        task.cancel()
        assert await counted() == N, "every event applied exactly once"
        return outbox_rate, pipeline_rate


async def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    try:
        raw = await raw_broker_rate(namespace)
        outbox_rate, pipeline = await pipeline_rates(namespace)
    finally:
        await delete_namespace(namespace)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"events: {N}, relay batch {BATCH}, prefetch {PREFETCH}, MONGODB_URL={os.environ.get('MONGODB_URL', '-')}")
    print(f"raw broker publish+consume   {raw:10.0f} msg/s")
    print(f"pipeline outbox->broker->db  {pipeline:10.0f} events/s")
    print(f"ratio pipeline / raw         {pipeline / raw:10.3f}")
    print(f"outbox commits (1 tx each)   {outbox_rate:10.0f} tx/s")
    emit({"pipeline.events": pipeline, "pipeline.raw_publish_consume": raw, "pipeline.outbox_commits": outbox_rate})


if __name__ == "__main__":
    asyncio.run(main())
