"""Hitpoints: command.failed events counted per second, and how fast a registrar that reaches its limit is
refused by the registry.

  throughput  BENCH_EVENTS command.failed (1 hitpoint each, spread over BENCH_REGISTRARS registrars)
              waiting in hitpoints' quorum queue; a hitpoints process starts and counts them all (dedup
              record, counter $inc, offending transactions, in micro-batched transactions). The limit is
              set out of reach so that the figure is the counting alone. The time includes the process's
              start; 20,000 events keep that a small part. Also the CPU seconds this
              process (the consumer) spent per event, which the machine's other load does not change.
  latency     the registry and hitpoints in one process on the real broker and database: a registrar one
              faulty command short of its limit sends it over HTTP; the time from sending it to the
              registry refusing the registrar's next command (2308), polled every 5 ms. The path: registry
              outbox -> broker -> hitpoints (count, block, outbox) -> broker -> registry (block applied).
              BENCH_ROUNDS rounds (default 100: the p99 of 50 was the worst round alone); an operator unblock
              between rounds. The first BENCH_BLOCK_WARMUP rounds (default 3) are not counted: just after the
              two services started, their first rounds ran the code paths for the first time (the slowest
              rounds of a run were rounds 2-4); their worst is printed beside.

Run: .venv/bin/python bench/bench_hitpoints.py  (or make bench ARGS=bench/bench_hitpoints.py).
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, percentile
from services.hitpoints.app import build as build_hitpoints
from services.hitpoints.settings import HitpointsSettings
from services.registry.app import build as build_registry
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.clock import SystemClock
from shared.events import Channel, CommandFailed, CommandType, new_event
from tests.integration.infra import (
    AMQP_URL,
    AMQP_USER,
    OPERATOR,
    delete_namespace,
    eventually,
    login,
    running,
)

N = int(os.environ.get("BENCH_EVENTS", "20000"))
REGISTRARS = int(os.environ.get("BENCH_REGISTRARS", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
WARMUP_ROUNDS = int(os.environ.get("BENCH_BLOCK_WARMUP", "3"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def throughput(namespace: str) -> tuple[float, float]:
    """Events counted per second, and this process's CPU seconds per event meanwhile."""
    settings = HitpointsSettings(namespace=namespace, log_level="WARNING",
                                 limit_min=10**9, limit_max=10**9, jobs_interval_seconds=3600)
    async with running(build_hitpoints(settings)):
        pass  # declares the queue and its bindings, then stops consuming
    clock = SystemClock()
    registrars = [f"bench{i:03d}" for i in range(REGISTRARS)]
    events = [
        new_event(CommandFailed(user_id=r, channel=Channel.EPP, command=CommandType.DEL_CONTACT, object=f"c{i}",
                                reference=f"epp-{i}", result_code=2303, message="Object does not exist"),
                  registrar_id=r, correlation_id=None, clock=clock)
        for i in range(N) for r in [registrars[i % REGISTRARS]]
    ]
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        for first in range(0, N, 500):
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(e.to_json(), message_id=str(e.event_id), type=e.event_type,
                                                  content_type="application/json", user_id=AMQP_USER,
                                                  delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                 routing_key=e.event_type)
                for e in events[first:first + 500]
            ))
    app = build_hitpoints(settings)
    started, cpu = time.perf_counter(), cpu_seconds()
    async with running(app):
        db = app.state.ctx.db

        async def counted() -> int:
            docs = await db["counters"].find({}, {"hitpoints": 1}).to_list()
            return sum(int(d["hitpoints"]) for d in docs)

        await eventually(counted, lambda n: n >= N, timeout=1800)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        assert await counted() == N, "every event counted exactly once"
    return N / elapsed, cpu / N


async def block_latency(namespace: str) -> tuple[list[float], list[float]]:
    """The latencies of the counted rounds, and of the warm-up rounds."""
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, log_level="WARNING",
                                         operator_token="operator-dev-token", epp_enabled=False)
    hitpoints_settings = HitpointsSettings(namespace=namespace, log_level="WARNING", operator_token="operator-dev-token")
    latencies: list[float] = []
    async with running(build_registry(registry_settings)) as registry, \
            running(build_hitpoints(hitpoints_settings)) as hitpoints:
        ctx = registry._transport.app.state.ctx  # type: ignore[attr-defined]
        await seed_demo_registrar(ctx, registry_settings, "b200002")
        me = await login(registry, "b200002")
        assert (await registry.post("/api/domains", headers=me, json={"name": "mine.be", "registrant": "b200002-demo"})).status_code == 201

        async def hitpoints_now() -> int:
            return (await hitpoints.get("/api/hitpoints", headers=me)).json()["hitpoints"]

        async def info_code() -> int:
            return (await registry.get("/api/domains/mine.be", headers=me)).status_code

        for _ in range(WARMUP_ROUNDS + ROUNDS):
            # the limit is 100 (one domain), reached at 100: nine refused creates of an existing name give 90
            for _ in range(9):
                await registry.post("/api/domains", headers=me, json={"name": "mine.be", "registrant": "b200002-demo"})
            if await eventually(hitpoints_now, lambda n: n >= 90, timeout=60) != 90:
                # a refusal of the previous round counted after its unblock: this round starts over
                await hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=OPERATOR)
                await eventually(hitpoints_now, lambda n: n == 0, timeout=60)
                continue
            started = time.perf_counter()
            crossing = await registry.post("/api/domains", headers=me, json={"name": "mine.be", "registrant": "b200002-demo"})
            assert crossing.status_code == 409
            while await info_code() != 409:
                if time.perf_counter() - started > 30:
                    raise AssertionError("the registry never refused")
                await asyncio.sleep(0.005)
            latencies.append(time.perf_counter() - started)
            r = await hitpoints.post("/api/operator/hitpoints/b200002/unblock", headers=OPERATOR)
            assert r.status_code == 200, r.text
            await eventually(info_code, lambda code: code == 200, timeout=60)
    return latencies[WARMUP_ROUNDS:], latencies[:WARMUP_ROUNDS]


async def main() -> None:
    namespace, namespace2 = f"b{uuid.uuid4().hex[:10]}", f"b{uuid.uuid4().hex[:10]}"
    try:
        rate, cpu_per_event = await throughput(namespace)
        latencies, warmup = await block_latency(namespace2)
    finally:
        await delete_namespace(namespace)
        await delete_namespace(namespace2)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    consumer = HitpointsSettings()  # PREFETCH_COUNT and CONSUME_BATCH_SIZE from the environment, else the defaults
    print(f"MONGODB_URL={os.environ.get('MONGODB_URL', '-')}, prefetch {consumer.prefetch_count}, "
          f"batch {consumer.consume_batch_size}")
    print(f"command.failed counted        {rate:10.0f} events/s   ({N} events, {REGISTRARS} registrars)")
    print(f"consumer CPU per event        {cpu_per_event * 1e6:10.0f} us")
    print(f"block latency p50             {percentile(latencies, 0.50) * 1000:10.1f} ms   ({len(latencies)} rounds, "
          f"after {len(warmup)} not counted: worst {max(warmup, default=0) * 1000:.1f} ms)")
    print(f"block latency p99             {percentile(latencies, 0.99) * 1000:10.1f} ms")
    print(f"block latency mean / max      {statistics.mean(latencies) * 1000:10.1f} / {max(latencies) * 1000:.1f} ms")
    emit({"hitpoints.failed": rate, "hitpoints.consumer_cpu_us": cpu_per_event * 1e6, "hitpoints.block_p50_ms": percentile(latencies, 0.50) * 1000,
          "hitpoints.block_p99_ms": percentile(latencies, 0.99) * 1000})


if __name__ == "__main__":
    asyncio.run(main())
