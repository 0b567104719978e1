"""Publication: how fast the registry's changes reach the zones on Knot, how fast a full rebuild is, and how
many WHOIS and RDAP queries a second the service answers. Prints the machine and the figures; asserts nothing.

  raw       the same run's raw capacities: RabbitMQ publish+consume (persistent, confirms, quorum queue) and
            MongoDB update_one, both bench/raw.py's own functions, and Knot RFC 2136 updates (one domain per
            message and 50 per message)
  lag       a Knot of its own (free port, temporary directory) and the publication service (in this process,
            served by uvicorn on free ports); the registry's domain events (domain.created with glue 60 %,
            domain.updated 30 %, domain.override_changed 10 %) are published on the real broker at BENCH_RATE a
            second (default 100) for BENCH_SECONDS (default 30). The lag of each change is the pusher's own
            measure: the event's occurred_at to Knot's answer to the update that carried it. p50 / p99 / max.
            The events are published here, shaped as the registry publishes them, not by a running registry:
            what is measured is the publication side.
  rebuild   BENCH_REBUILD domains (default 200000; .be's 1.7 M: BENCH_REBUILD=1700000) in a scratch read model (its
            zone entries bulk-inserted, not timed; see fill), then `python -m services.publication.rebuild` in a
            child process: wall time and the child's peak RSS.
  queries   WHOIS over TCP and RDAP over HTTP against the same service, BENCH_CLIENTS (default 8) concurrent
            clients for BENCH_QUERY_SECONDS (default 5) each; the clients run in this process too.

Run: .venv/bin/python bench/bench_publication.py (BENCH_REBUILD=100000 BENCH_SECONDS=10 for a quick one;
BENCH_PARTS=rebuild BENCH_REBUILD=1700000 for the full-size rebuild alone; BENCH_PARTS names any of lag, rebuild).
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
from array import array
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
import httpx
import uvicorn
from pymongo import AsyncMongoClient, monitoring

from bench.raw import publish_consume_rate, update_rate
from bench.report import emit, percentile
from services.publication.app import build as build_publication
from services.publication.knot import Change, Knot
from services.publication.service import publication_of
from services.publication.settings import PublicationSettings
from services.publication import zone_entries
from services.publication.store import CHANGES, GROUPS, MIGRATIONS, ZONE_ENTRIES
from shared.clock import SystemClock
from shared.events import EventPayload, new_event
from shared.events.domains import DomainCreated, DomainOverrideChanged, DomainUpdated, NameServerHost
from tests.integration.infra import AMQP_URL, AMQP_USER, MONGODB_URL, ROOT, delete_namespace, eventually, free_port
from tests.integration.knot import knot_server

RATE = float(os.environ.get("BENCH_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
REBUILD = int(os.environ.get("BENCH_REBUILD", "200000"))
PARTS = set(os.environ.get("BENCH_PARTS", "lag,rebuild").split(","))
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


# -- raw capacities (bench/raw.py's, and Knot's own) --------------------------------------------------------

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
            # as the broker user the consumers accept (they dead-letter what an unknown publisher sends)
            await exchange.publish(aio_pika.Message(event.to_json(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                    user_id=AMQP_USER), routing_key=event.event_type)
        achieved = total / (time.perf_counter() - started)

    def consumed() -> float:
        return sum(sample.value for family in pub.ctx.metrics.registry.collect() for sample in family.samples
                   if sample.name == "events_consumed_total" and sample.labels.get("outcome") == "processed")

    async def settled() -> bool:
        return consumed() >= total and await pub.db[CHANGES].count_documents({}) == 0

    await eventually(settled, bool, timeout=900)
    return total, achieved


# -- rebuild --------------------------------------------------------------------------------------------------

def domain_doc(i: int, now: datetime) -> dict[str, Any]:
    """The i-th domain as the read model's handlers store it: two in three with their own hosts (glue inside),
    one in three with a registrar's name-server group."""
    doc: dict[str, Any] = {"_id": f"d{i:07d}.be", "tld": "be", "registrar_id": f"r{i % 500}", "status": "REGISTERED",
                           "registered_at": now, "expires_at": now + timedelta(days=365), "nsgroups": [],
                           "keygroups": []}
    if i % 3 == 0:
        return doc | {"hosts": [], "nsgroups": ["g"]}
    return doc | {"hosts": [{"name": f"ns1.d{i:07d}.be", "addresses": ["192.0.2.1"]},
                            {"name": "ns.hoster.example", "addresses": []}]}


def bucket_order(n: int) -> array[int]:
    """The numbers of the n domains, bucket by bucket: a counting sort in two arrays (some 10 MB at 1.7 M, where a
    sorted list of ints would take over 100 MB of this process, and with it the child's peak RSS)."""
    of = array("H", (int(zone_entries.bucket_id("be", f"d{i:07d}.be").split(":")[1]) for i in range(n)))
    starts = [0] * (zone_entries.BUCKETS + 1)
    for b in of:
        starts[b + 1] += 1
    for b in range(zone_entries.BUCKETS):
        starts[b + 1] += starts[b]
    order = array("I", bytes(4 * n))
    for i, b in enumerate(of):
        order[starts[b]] = i
        starts[b] += 1
    return order


async def fill(namespace: str, n: int) -> float:
    """The scratch read model a rebuild reads: the groups, and the zone entries of n domains, rendered from
    domain_doc (the shape the handlers store) by the pusher's own function (zone_entries.entry) into the buckets
    it puts them in, a bucket at a time (bulk inserts); the migration marked done, as a database the service
    built from the start has it. The domain documents themselves are not stored: a rebuild never reads them."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    started = time.perf_counter()
    try:
        db = client[f"{namespace}_publication"]
        await db[GROUPS].insert_many([{"_id": f"nsgroup:r{r}:g", "kind": "nsgroup", "registrar_id": f"r{r}",
                                       "name": "g", "name_servers": ["a.dns.example", "b.dns.example"]}
                                      for r in range(500)])
        now = datetime.now(UTC)
        buckets: list[dict[str, Any]] = []
        bucket: dict[str, Any] | None = None
        for i in bucket_order(n):  # so that each bucket is made whole once and inserted
            doc = domain_doc(i, now)
            bid = zone_entries.bucket_id("be", doc["_id"])
            if bucket is None or bucket["_id"] != bid:
                if len(buckets) == 200:
                    await db[ZONE_ENTRIES].insert_many(buckets, ordered=False)
                    buckets = []
                bucket = {"_id": bid, "tld": "be", "names": {}}
                buckets.append(bucket)
            if (value := zone_entries.entry(doc)) is not None:
                bucket["names"][zone_entries.key_of(doc["_id"])] = value
        if buckets:
            await db[ZONE_ENTRIES].insert_many(buckets, ordered=False)
        await db[MIGRATIONS].insert_one({"_id": zone_entries.FILLED, "at": now})
        return time.perf_counter() - started
    finally:
        await client.close()


# the rebuild CLI in a child process that reports its own peak RSS: its memory's high-water mark since the exec
# (VmHWM). Not getrusage: RUSAGE_CHILDREN would also count knotd, and Linux carries the spawning parent's peak into
# the child's ru_maxrss at the exec (this process's, some 100 MiB or more, whatever the rebuild uses)
CHILD = """import runpy, sys
from pathlib import Path
sys.argv = ["rebuild", "--out", sys.argv[1]]
try:
    runpy.run_module("services.publication.rebuild", run_name="__main__")
except SystemExit as done:
    if done.code:
        raise
status = Path("/proc/self/status").read_text().splitlines()
print("peak_rss_kib", next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def rebuild(namespace: str) -> tuple[float, float, dict[str, int]]:
    out = Path(tempfile.mkdtemp(prefix="rebuild-"))
    env = os.environ | {"NAMESPACE": namespace, "MONGODB_URL": MONGODB_URL}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    peak_mib = int(done.stdout.split("peak_rss_kib")[-1]) / 1024
    sizes = {p.name: p.stat().st_size for p in out.glob("*.zone")}
    shutil.rmtree(out)
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


class Commands(monitoring.CommandListener):
    """MongoDB commands sent, by name: the load-independent cost of the publication path."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def lag_and_queries() -> dict[str, float]:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    figures: dict[str, float] = {}
    commands = Commands()
    monitoring.register(commands)  # before the service makes its client
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
            print(f"raw: RabbitMQ {await publish_consume_rate(RAW_N):.0f} msg/s published and consumed, MongoDB "
                  f"update_one {await update_rate(RAW_N):.0f}/s, Knot updates {await raw_knot(pub.knot, 1, 300):.0f} "
                  f"domains/s (1 per message), {await raw_knot(pub.knot, 50, 3000):.0f} domains/s (50 per message)",
                  flush=True)

            lags: list[float] = []
            observe = pub.metrics.lag.observe

            def record(value: float, *args: Any, **kwargs: Any) -> None:
                lags.append(value)
                observe(value, *args, **kwargs)

            pub.metrics.lag.observe = record  # type: ignore[method-assign,assignment]
            rounds: list[tuple[float, int]] = []  # (seconds, domains) of each pusher round that pushed
            push_once = pub.pusher.push_once

            async def timed() -> int:
                started = time.perf_counter()
                pushed = await push_once()
                if pushed:
                    rounds.append((time.perf_counter() - started, pushed))
                return pushed

            pub.pusher.push_once = timed  # type: ignore[method-assign]
            updates: list[float] = []  # seconds of each UPDATE sent to Knot (its answer included)
            knot_push = pub.knot.push

            async def timed_push(zone: str, changes: Any) -> None:
                started = time.perf_counter()
                await knot_push(zone, changes)
                updates.append(time.perf_counter() - started)

            pub.knot.push = timed_push  # type: ignore[method-assign]
            load_before = os.getloadavg()[0]
            commands.counts.clear()
            total, achieved = await load(namespace, lags, pub)
            sent = dict(commands.counts)
            figures |= {"publication.lag_p50_s": percentile(lags, 0.5), "publication.lag_p99_s": percentile(lags, 0.99)}
            print(f"lag: {total} changes at {achieved:.0f}/s (asked {RATE:.0f}/s): p50 {percentile(lags, 0.5):.3f} s, "
                  f"p99 {percentile(lags, 0.99):.3f} s, max {max(lags):.3f} s, mean {statistics.fmean(lags):.3f} s over "
                  f"{len(lags)} domain pushes (goal p99 < 2 s); push failures "
                  f"{pub.metrics.push_failures._value.get():.0f}; load average {load_before:.1f} before, "
                  f"{os.getloadavg()[0]:.1f} after", flush=True)
            durations = [d for d, _ in rounds]
            print(f"pusher: {len(rounds)} rounds, {statistics.fmean([n for _, n in rounds]):.1f} domains a round, "
                  f"a round p50 {percentile(durations, 0.5):.3f} s, p99 {percentile(durations, 0.99):.3f} s "
                  f"(find, groups, one UPDATE per zone, settle); of which Knot's UPDATE p50 "
                  f"{percentile(updates, 0.5):.3f} s, p99 {percentile(updates, 0.99):.3f} s", flush=True)
            print(f"MongoDB commands for {total} events and {len(lags)} domain pushes (the bench's own waiting "
                  f"included: count, find): {sum(sent.values())} in all, {sum(sent.values()) / total:.2f} an event; "
                  f"{dict(sorted(sent.items(), key=lambda kv: -kv[1]))}", flush=True)
            figures["publication.mongo_commands_per_event"] = sum(sent.values()) / total

            name = "bench-0.be"
            whois, rdap = await whois_rate(whois_port, name), await rdap_rate(f"http://127.0.0.1:{http_port}", name)
            figures |= {"publication.whois": whois, "publication.rdap": rdap}
            print(f"queries: WHOIS {whois:.0f}/s, RDAP {rdap:.0f}/s ({CLIENTS} clients, same process)", flush=True)
        finally:
            server.should_exit = True
            await serving
    await delete_namespace(namespace)
    return figures


async def full_rebuild() -> dict[str, float]:
    scratch = f"r{uuid.uuid4().hex[:10]}"
    try:
        filled = await fill(scratch, REBUILD)
        load_before = os.getloadavg()[0]
        elapsed, peak, sizes = rebuild(scratch)
        print(f"rebuild: {REBUILD} domains (filled in {filled:.0f} s, not timed): {elapsed:.1f} s, peak RSS "
              f"{peak:.0f} MiB (goals < 60 s, < 500 MB); zone files {sizes}; load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after", flush=True)
        return {"publication.rebuild_s": elapsed, "publication.rebuild_mib": peak,
                "publication.rebuild_domains": float(REBUILD)}
    finally:
        await delete_namespace(scratch)


async def main() -> None:
    print(machine(), flush=True)
    figures: dict[str, float] = {}
    if "lag" in PARTS:
        figures |= await lag_and_queries()
    if "rebuild" in PARTS:
        figures |= await full_rebuild()
    emit(figures)


if __name__ == "__main__":
    asyncio.run(main())
