"""Events per second through the whole pipeline, next to the raw rate of the same broker, in one run.

  raw       persistent publishes with confirms (batches of OUTBOX_BATCH_SIZE in flight, as the relay does)
            into a quorum queue, consumed with manual acks at the same prefetch; nothing else
  pipeline  events already committed in a service's outbox -> relay (confirms) -> RabbitMQ quorum queue
            -> reporting's consumer -> MongoDB transaction (processed-event record + read-model update)
  outbox    the rate at which a service can commit one state change and its event (one transaction each)
  store     the pipeline's store work alone, no broker, one step after the other: the relay's read of a batch and
            its delete transaction, then reporting's transactions applying those events (processed-event record,
            journal, read model) in batches of CONSUME_BATCH_SIZE. What the store allows the pipeline: the pipeline
            overlaps these steps with the broker's, so near this rate the store is its bound, not the broker

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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import ASCENDING, DeleteOne
from pymongo.asynchronous.client_session import AsyncClientSession

from bench.raw import publish_consume_rate
from bench.report import cpu_seconds, emit, standin_pid
from services.reporting.app import build as build_reporting
from services.reporting.service import reporting_of
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.events.catalogue import decode_event
from shared.mongo.outbox import OUTBOX, Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from tests.integration.infra import OPERATOR, delete_namespace, running

N = int(os.environ.get("BENCH_EVENTS", "3000"))
BATCH = int(os.environ.get("OUTBOX_BATCH_SIZE", "200"))
CONSUMER = ReportingSettings()  # PREFETCH_COUNT and CONSUME_BATCH_SIZE from the environment, else the defaults
PREFETCH = CONSUMER.prefetch_count


async def raw_broker_rate() -> float:
    """The same broker's publish+consume rate, measured just before the pipeline (bench/raw.py)."""
    return await publish_consume_rate(N, prefetch=PREFETCH, batch=BATCH)


async def pipeline_rates(namespace: str) -> tuple[float, float, float, float, float]:
    app = build_reporting(ReportingSettings(namespace=namespace, log_level="WARNING",
                                            operator_token="operator-dev-token"))
    async with running(app) as reporting:
        ctx = app.state.ctx
        db = ctx.client[f"{namespace}_publisher"]

        # phase 1: commit N state changes with their events, one transaction each (as a command does)
        started = time.perf_counter()
        await commit_events(ctx.client, db, "bench")
        outbox_rate = N / (time.perf_counter() - started)

        # phase 2: relay and consume everything that is waiting
        # the relay's default poll: it runs round after round while the outbox is full, and idle polls would only
        # load the store the consumer writes to; the service's tracer, as create_app gives it (spans are made, not
        # exported): without it the relay's spans were the API's no-op ones, cheaper than a service's
        relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="bench", batch_size=BATCH, tracer=ctx.tracer)
        started, cpu, standin_cpu = time.perf_counter(), time.process_time(), cpu_seconds(standin_pid())
        task = asyncio.create_task(relay.run())

        async def counted() -> int:
            return (await reporting.get("/api/portfolios/a100001", headers=OPERATOR)).json()["domains"]

        # looked at every 0.1 s (not the tests' 0.05 s): each look is an HTTP request and a query on the same store
        while await counted() < N:
            if time.perf_counter() - started > 1800:
                raise AssertionError("the pipeline did not apply every event within 30 minutes")
            await asyncio.sleep(0.1)
        pipeline_rate = N / (time.perf_counter() - started)
        cpu_ms = (time.process_time() - cpu) * 1000 / N
        standin_ms = (cpu_seconds(standin_pid()) - standin_cpu) * 1000 / N
        await relay.stop()
        task.cancel()
        assert await counted() == N, "every event applied exactly once"

        # phase 3: the same store work without the broker, on N other events
        await commit_events(ctx.client, db, "store")
        store_rate = await store_work_rate(ctx, db)
        assert await counted() == 2 * N, "every event applied exactly once"
        return outbox_rate, pipeline_rate, cpu_ms, standin_ms, store_rate


async def commit_events(client: Any, db: Any, prefix: str) -> None:
    """N state changes with their events, one transaction each (as a command commits them)."""
    outbox, clock = Outbox(db), SystemClock()
    for i in range(N):
        event = new_event(DomainCreated(name=f"{prefix}-{i}.be", tld="be", registered_at=clock.now()),
                          registrar_id="a100001", correlation_id=None, clock=clock)

        async def work(session: AsyncClientSession, event: Any = event, i: int = i) -> None:
            await db["domains"].insert_one({"_id": f"{prefix}-{i}.be"}, session=session)
            await outbox.add([event], session)

        await in_transaction(client, work)


async def store_work_rate(ctx: Any, db: Any) -> float:
    """Events a second through the pipeline's store work alone (module docstring: store), one step at a time."""
    handler = reporting_of(ctx).read_model.handlers()[DomainCreated]
    processed, size = ctx.consumer.processed, CONSUMER.consume_batch_size
    started, applied = time.perf_counter(), 0
    while batch := await db[OUTBOX].find({}).sort("_id", ASCENDING).limit(BATCH).to_list():
        deletes = [DeleteOne({"_id": doc["_id"]}) for doc in batch]

        async def delete(session: AsyncClientSession, deletes: list[Any] = deletes) -> None:
            await db[OUTBOX].bulk_write(deletes, ordered=False, session=session)

        await in_transaction(ctx.client, delete)
        events = [decode_event(doc["body"]) for doc in batch]
        for i in range(0, len(events), size):
            applied += sum(await processed.apply_batch("reporting", [(e, handler) for e in events[i:i + size]]))
    assert applied == N, f"{applied} of {N} applied"
    return N / (time.perf_counter() - started)


async def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    try:
        raw = await raw_broker_rate()
        outbox_rate, pipeline, cpu_ms, standin_ms, store = await pipeline_rates(namespace)
    finally:
        await delete_namespace(namespace)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"events: {N}, relay batch {BATCH}, prefetch {PREFETCH}, batch {CONSUMER.consume_batch_size}, MONGODB_URL={os.environ.get('MONGODB_URL', '-')}")
    print(f"raw broker publish+consume   {raw:10.0f} msg/s")
    print(f"pipeline outbox->broker->db  {pipeline:10.0f} events/s")
    print(f"ratio pipeline / raw         {pipeline / raw:10.3f}")
    print(f"process CPU per event        {cpu_ms:10.2f} ms      (relay and consumer, one process)")
    print(f"stand-in CPU per event       {standin_ms:10.2f} ms      (its busy share of one core at this rate:"
          f" {standin_ms * pipeline / 1000:.0%}; 0 where its process is unknown)")
    print(f"outbox commits (1 tx each)   {outbox_rate:10.0f} tx/s")
    print(f"store work alone, no broker  {store:10.0f} events/s   (relay read + delete, consumer transactions)")
    print(f"ratio pipeline / store alone {pipeline / store:10.3f}")
    emit({"pipeline.events": pipeline, "pipeline.raw_publish_consume": raw, "pipeline.outbox_commits": outbox_rate,
          "pipeline.store_alone": store, "pipeline.standin_cpu_ms": standin_ms})


if __name__ == "__main__":
    asyncio.run(main())
