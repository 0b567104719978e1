"""Registry commands per second through the command layer (standing checks, rules, transaction with the
outbox and the ledger) on the real database: domain create, info and update, with p50/p99 latency.
Sequential and with CONCURRENCY commands in flight. Commands go straight to the command functions (no
HTTP, no login).

Run: make bench ARGS=bench/bench_registry_commands.py   (BENCH_COMMANDS sets the count per kind)
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit
from services.registry.app import build
from services.registry.commands import Actor
from services.registry.domains.create import create_domain
from services.registry.domains.info import info_domain
from services.registry.domains.model import HostAttr
from services.registry.domains.update import update_domain
from services.registry.settings import RegistrySettings
from shared.events import Channel
from shared.runtime import ServiceContext
from tests.integration.infra import delete_namespace, running

N = int(os.environ.get("BENCH_COMMANDS", "500"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SPREAD = 10  # creates of one registrar from SPREAD sessions against the same load over SPREAD registrars


async def measure(label: str, call: Callable[[int], Awaitable[object]], concurrency: int) -> float:
    latencies: list[float] = []
    counter = iter(range(N))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(f"{label:<28} c={concurrency:<3} {N / elapsed:8.0f} /s   p50 {q[49] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms")
    return N / elapsed


async def clone_registrars(ctx: ServiceContext, count: int) -> list[str]:
    """`count` registrars like the demo one (its document and its contacts), each with enough prepayment."""
    base = await ctx.db["registrars"].find_one({"_id": "a100001"})
    assert base is not None
    contacts = await ctx.db["contacts"].find({"registrar_id": "a100001"}).to_list()
    ids = [f"s{uuid.uuid4().hex[:6]}" for _ in range(count)]
    for rid in ids:
        # a ledger of its own: the demo registrar's newest lines (money.OPEN_LEDGER) are not the clone's
        await ctx.db["registrars"].insert_one({**base, "_id": rid, "balance_cents": 10**9, "ledger_open": []})
        await ctx.db["contacts"].insert_many([{**c, "_id": c["_id"].replace("a100001", rid), "registrar_id": rid}
                                              for c in contacts])
    return ids


async def one_vs_spread(ctx: ServiceContext) -> dict[str, float | None]:
    """Prepayment without a lock across commands: one registrar's creates from SPREAD sessions against the same load
    over SPREAD registrars, in the same run (goal: the ratio at least 0.8)."""
    ids = await clone_registrars(ctx, SPREAD)
    actors = [Actor(rid, rid, Channel.EPP, "bench") for rid in ids]
    run = uuid.uuid4().hex[:6]
    spread = await measure(f"create, {SPREAD} registrars", lambda i: create_domain(  # type: ignore[misc]
        ctx, actors[i % SPREAD], f"s{run}-{i}.be", f"{actors[i % SPREAD].registrar_id}-demo"), SPREAD)
    one = await measure("create, one registrar", lambda i: create_domain(  # type: ignore[misc]
        ctx, actors[0], f"o{run}-{i}.be", f"{actors[0].registrar_id}-demo"), SPREAD)
    print(f"one registrar / {SPREAD} registrars at {SPREAD} sessions: {one / spread:.2f} (goal >= 0.8)")
    return {f"registry.create.one_registrar.c{SPREAD}": one, f"registry.create.spread.c{SPREAD}": spread,
            "registry.create.one_vs_spread": one / spread}


async def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, log_level="WARNING", epp_enabled=False)
    app = build(settings)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"commands per kind: {N}, MONGODB_URL={os.environ.get('MONGODB_URL', 'default')}")
    try:
        async with running(app):
            ctx = app.state.ctx
            # enough prepayment for every create: the bench measures commands, not refusals
            await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 10**9}})
            actor = Actor("a100001", "a100001", Channel.EPP, "bench")
            figures: dict[str, float | None] = {}
            for concurrency in (1, CONCURRENCY):
                run = uuid.uuid4().hex[:6]
                figures[f"registry.create.c{concurrency}"] = await measure("domain create", lambda i, run=run: create_domain(ctx, actor, f"b{run}-{i}.be", "a100001-demo"),  # type: ignore[misc]
                              concurrency)
                figures[f"registry.info.c{concurrency}"] = await measure("domain info", lambda i, run=run: info_domain(ctx, actor, f"b{run}-{i}.be"), concurrency)  # type: ignore[misc]
                # a full replacement that checks contacts and glue: the update rule's whole path
                figures[f"registry.update.c{concurrency}"] = await measure("domain update", lambda i, run=run: update_domain(  # type: ignore[misc]
                    ctx, actor, f"b{run}-{i}.be", tech=["a100001-tech"], onsite=[], nsgroups=[], keygroups=[],
                    name_servers=[HostAttr(name=f"ns1.b{run}-{i}.be", addresses=["192.0.2.53"]),
                                  HostAttr(name="ns.example.net")]), concurrency)
            figures.update(await one_vs_spread(ctx))
            emit(figures)
    finally:
        await delete_namespace(namespace)


if __name__ == "__main__":
    asyncio.run(main())
