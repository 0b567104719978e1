"""Publication: how fast the registry's changes reach the zones on Knot, how fast a full rebuild is, and how
many WHOIS and RDAP queries a second the service answers. Prints the machine and the figures; asserts nothing.

  raw       the same run's raw capacities: RabbitMQ publish+consume (persistent, confirms, quorum queue),
            MongoDB update_one, Knot RFC 2136 updates (one domain per message and 50 per message)
  lag       a Knot of its own (free port, temporary directory) and the publication service (in this process,
            served by uvicorn on free ports); the registry's domain events (domain.created with glue 60 %,
            domain.updated 30 %, domain.override_changed 10 %) are published on the real broker at BENCH_RATE a
            second (default 100) for BENCH_SECONDS (default 30). The lag of each change is the pusher's own
            measure: the event's occurred_at to Knot's answer to the update that carried it. p50 / p99 / max.
            The events are published here, shaped as the registry publishes them, not by a running registry:
            what is measured is the publication side.
  rebuild   BENCH_REBUILD domains (default 1700000) bulk-inserted into a scratch read model (not timed), then
            `python -m services.publication.rebuild` in a child process: wall time and the child's peak RSS.
  queries   WHOIS over TCP and RDAP over HTTP against the same service, BENCH_CLIENTS (default 8) concurrent
            clients for BENCH_QUERY_SECONDS (default 5) each; the clients run in this process too.

Run: .venv/bin/python bench/bench_publication.py (BENCH_REBUILD=100000 BENCH_SECONDS=10 for a quick one).
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
import httpx
import uvicorn
from pymongo import AsyncMongoClient, InsertOne

from services.publication.app import build as build_publication
from services.publication.knot import Change, Knot
from services.publication.service import publication_of
from services.publication.settings import PublicationSettings
from services.publication.store import DOMAINS, GROUPS, PUBLICATION_INDEXES
from shared.clock import SystemClock
from shared.events import EventPayload, new_event
from shared.events.domains import DomainCreated, DomainOverrideChanged, DomainUpdated, NameServerHost
from shared.mongo.indexes import ensure_indexes
from tests.integration.infra import AMQP_URL, MONGODB_URL, ROOT, delete_namespace, eventually, free_port
from tests.integration.knot import knot_server

RATE = float(os.environ.get("BENCH_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
REBUILD = int(os.environ.get("BENCH_REBUILD", "1700000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
QUERY_SECONDS = float(os.environ.get("BENCH_QUERY_SECONDS", "5"))
RAW_N = 2000


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    knot = subprocess.run(["knotd", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    load = os.getloadavg()
    return (f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores ({model}), "
            f"{int(memory) // 1024} MiB, load {load[0]:.1f}/{load[1]:.1f}, Python {platform.python_version()}, {knot}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- raw capacities -------------------------------------------------------------------------------------------

async def raw_broker(namespace: str) -> float:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"{namespace}.raw", durable=True, arguments={"x-queue-type": "quorum"})
        received, done = 0, asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == RAW_N:
                done.set()

        tag = await queue.consume(on_message)
        started = time.perf_counter()
        for first in range(0, RAW_N, 200):
            await asyncio.gather(*(channel.default_exchange.publish(
                aio_pika.Message(b"x" * 600, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name)
                for _ in range(first, min(first + 200, RAW_N))))
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        return RAW_N / elapsed


async def raw_mongo(namespace: str) -> float:
    client: AsyncMongoClient[Any] = AsyncMongoClient(MONGODB_URL)
    try:
        collection = client[f"{namespace}_raw"]["docs"]
        await collection.insert_many([{"_id": i, "v": 0} for i in range(RAW_N)])
        started = time.perf_counter()
        for i in range(RAW_N):
            await collection.update_one({"_id": i}, {"$set": {"v": 1}})
        return RAW_N / (time.perf_counter() - started)
    finally:
        await client.drop_database(f"{namespace}_raw")
        await client.close()


async def raw_knot(knot: Knot, per_message: int, n: int) -> float:
    started = time.perf_counter()
    for first in range(0, n, per_message):
        changes = [Change([], [(f"raw-{per_message}-{i}.be.", "NS", "ns.raw.example.")])
                   for i in range(first, min(first + per_message, n))]
        await knot.push("be", changes)
    rate = n / (time.perf_counter() - started)
    for first in range(0, n, 200):  # clean up
        await knot.push("be", [Change([f"raw-{per_message}-{i}.be."], []) for i in range(first, min(first + 200, n))])
    return rate


# -- lag under load -------------------------------------------------------------------------------------------

def events_for(i: int, known: list[str]) -> EventPayload:
    roll = random.random()
    if roll < 0.3 and known:
        name = random.choice(known)
        return DomainUpdated(name=name, tech=[], onsite=[], name_servers=["ns.hoster.example"], nsgroups=[],
                             keygroups=[], hosts=[NameServerHost(name="ns.hoster.example")])
    if roll < 0.4 and known:
        name = random.choice(known)
        return DomainOverrideChanged(name=name, overridden=random.random() < 0.5, reason="Registrant verification "
                                     "pending", published_name_servers=["ns1.landing.registry.invalid"])
    name = f"bench-{i}.be"
    known.append(name)
    return DomainCreated(name=name, tld="be", registrant="c1", registered_at=datetime.now(UTC),
                         name_servers=[f"ns1.{name}", "ns.hoster.example"],
                         hosts=[NameServerHost(name=f"ns1.{name}", addresses=["192.0.2.1"]),
                                NameServerHost(name="ns.hoster.example")])


async def load(namespace: str, lags: list[float], pub: Any) -> tuple[int, float]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    known: list[str] = []
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        total = int(RATE * SECONDS)
        started = time.perf_counter()
        for i in range(total):
            due = started + i / RATE
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            event = new_event(events_for(i, known), registrar_id="r1", correlation_id=None, clock=SystemClock())
            await exchange.publish(aio_pika.Message(event.to_json(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key=event.event_type)
        achieved = total / (time.perf_counter() - started)

    def consumed() -> float:
        return sum(sample.value for family in pub.ctx.metrics.registry.collect() for sample in family.samples
                   if sample.name == "events_consumed_total" and sample.labels.get("outcome") == "processed")

    async def settled() -> bool:
        return consumed() >= total and await pub.db[DOMAINS].count_documents({"dirty": True}) == 0

    await eventually(settled, bool, timeout=900)
    return total, achieved


# -- rebuild --------------------------------------------------------------------------------------------------

async def fill(namespace: str, n: int) -> float:
    client: AsyncMongoClient[Any] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    started = time.perf_counter()
    try:
        db = client[f"{namespace}_publication"]
        await ensure_indexes(db, PUBLICATION_INDEXES)
        await db[GROUPS].insert_many([{"_id": f"nsgroup:r{r}:g", "kind": "nsgroup", "registrar_id": f"r{r}",
                                       "name": "g", "name_servers": ["a.dns.example", "b.dns.example"]}
                                      for r in range(500)])
        now = datetime.now(UTC)
        batch: list[InsertOne[Any]] = []
        for i in range(n):
            doc: dict[str, Any] = {"_id": f"d{i:07d}.be", "tld": "be", "registrar_id": f"r{i % 500}",
                                   "status": "REGISTERED", "registered_at": now, "expires_at": now + timedelta(days=365)}
            if i % 3 == 0:
                doc |= {"hosts": [], "nsgroups": ["g"]}
            else:
                doc |= {"hosts": [{"name": f"ns1.d{i:07d}.be", "addresses": ["192.0.2.1"]},
                                  {"name": "ns.hoster.example", "addresses": []}]}
            batch.append(InsertOne(doc))
            if len(batch) == 10_000:
                await db[DOMAINS].bulk_write(batch, ordered=False)
                batch = []
        if batch:
            await db[DOMAINS].bulk_write(batch, ordered=False)
        return time.perf_counter() - started
    finally:
        await client.close()


def rebuild(namespace: str) -> tuple[float, float, dict[str, int]]:
    out = Path(tempfile.mkdtemp(prefix="rebuild-"))
    env = os.environ | {"NAMESPACE": namespace, "MONGODB_URL": MONGODB_URL}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "services.publication.rebuild", "--out", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sizes = {p.name: p.stat().st_size for p in out.glob("*.zone")}
    return elapsed, peak_mib, sizes


# -- queries --------------------------------------------------------------------------------------------------

async def whois_rate(port: int, name: str) -> float:
    count, deadline = 0, time.perf_counter() + QUERY_SECONDS

    async def client() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(name.encode() + b"\r\n")
            await reader.read()
            writer.close()
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return count / (time.perf_counter() - started)


async def rdap_rate(base: str, name: str) -> float:
    count, deadline = 0, time.perf_counter() + QUERY_SECONDS
    async with httpx.AsyncClient(base_url=base) as http:
        async def client() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                response = await http.get(f"/rdap/domain/{name}")
                assert response.status_code == 200, response.text
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return count / (time.perf_counter() - started)


async def main() -> None:
    print(machine(), flush=True)
    namespace = f"b{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp, knot_server(Path(tmp)) as dns_port:
        http_port, whois_port = free_port(), free_port()
        settings = PublicationSettings(namespace=namespace, dns_port=dns_port, http_port=http_port,
                                       http_host="127.0.0.1", whois_port=whois_port, das_port=0,
                                       check_interval_seconds=0, whois_rate_per_minute=10**9,
                                       rdap_rate_per_minute=10**9, push_interval_seconds=0.2)
        app = build_publication(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_config=None,
                                               access_log=False, lifespan="on"))
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                await asyncio.sleep(0.05)
            pub = publication_of(app.state.ctx)
            print(f"raw: RabbitMQ {await raw_broker(namespace):.0f} msg/s, MongoDB update_one "
                  f"{await raw_mongo(namespace):.0f}/s, Knot updates {await raw_knot(pub.knot, 1, 300):.0f} "
                  f"domains/s (1 per message), {await raw_knot(pub.knot, 50, 3000):.0f} domains/s (50 per message)",
                  flush=True)

            lags: list[float] = []
            observe = pub.metrics.lag.observe

            def record(value: float, *args: Any, **kwargs: Any) -> None:
                lags.append(value)
                observe(value, *args, **kwargs)

            pub.metrics.lag.observe = record  # type: ignore[method-assign,assignment]
            total, achieved = await load(namespace, lags, pub)
            print(f"lag: {total} changes at {achieved:.0f}/s (asked {RATE:.0f}/s): p50 {pct(lags, 0.5):.3f} s, "
                  f"p99 {pct(lags, 0.99):.3f} s, max {max(lags):.3f} s, mean {statistics.fmean(lags):.3f} s over "
                  f"{len(lags)} domain pushes (goal p99 < 2 s); push failures "
                  f"{pub.metrics.push_failures._value.get():.0f}", flush=True)

            name = "bench-0.be"
            print(f"queries: WHOIS {await whois_rate(whois_port, name):.0f}/s, RDAP "
                  f"{await rdap_rate(f'http://127.0.0.1:{http_port}', name):.0f}/s ({CLIENTS} clients, same process)",
                  flush=True)
        finally:
            server.should_exit = True
            await serving
    await delete_namespace(namespace)

    scratch = f"r{uuid.uuid4().hex[:10]}"
    try:
        filled = await fill(scratch, REBUILD)
        elapsed, peak, sizes = rebuild(scratch)
        print(f"rebuild: {REBUILD} domains (filled in {filled:.0f} s, not timed): {elapsed:.1f} s, peak RSS "
              f"{peak:.0f} MiB (goals < 60 s, < 500 MB); zone files {sizes}", flush=True)
    finally:
        await delete_namespace(scratch)


if __name__ == "__main__":
    asyncio.run(main())
