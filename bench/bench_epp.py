"""EPP throughput and latency over real TLS sessions: 1, 10 and 50 concurrent sessions, each running a mix
of domain check, info and create (2:2:1), against the registry's EPP server on the real database (info and
check ask about a domain the session created).
Prints commands per second overall and p50/p99 per command type; code 0 counts commands that got no answer
within the test client's 10 s (that session then stops).

Then, with BENCH_EPP_CREATES_ONLY sessions (default 10), every command a create: the figure to set beside the raw
create transaction (issue 18, goal 3), which the mix's creates, sharing the machine with 4 reads each, are not.

The latencies leave out each session's first BENCH_EPP_WARMUP commands (default 2): the sessions all start at the
same instant, so their first commands arrive as one burst (50 at once at 50 sessions) and queue behind each other,
reads behind reads, whatever the server does; the line also prints the reads' p99 with them ("from the start", also
emitted) and the p50-max of those first commands alone.

Run: make bench ARGS=bench/bench_epp.py   (BENCH_EPP_COMMANDS: commands per run, default 2000)
The registrar's session cap is raised for the bench (the default cap is 4 sessions per registrar).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, percentile
from services.registry.app import build
from services.registry.settings import RegistrySettings
from tests.integration.epp_client import EppClient
from tests.integration.infra import delete_namespace, running

TOTAL = int(os.environ.get("BENCH_EPP_COMMANDS", "2000"))
SESSIONS = [int(s) for s in os.environ.get("BENCH_EPP_SESSIONS", "1,10,50").split(",")]
CREATES_ONLY = [int(s) for s in os.environ.get("BENCH_EPP_CREATES_ONLY", "10").split(",") if s]
WARMUP = int(os.environ.get("BENCH_EPP_WARMUP", "2"))
DOMAIN = 'xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"'


def command(kind: str, name: str) -> str:
    if kind == "check":
        return f"<check><domain:check {DOMAIN}><domain:name>{name}</domain:name></domain:check></check>"
    if kind == "info":
        return f"<info><domain:info {DOMAIN}><domain:name>{name}</domain:name></domain:info></info>"
    return (f"<create><domain:create {DOMAIN}><domain:name>{name}</domain:name><domain:registrant>a100001-demo"
            "</domain:registrant><domain:contact type=\"tech\">a100001-tech</domain:contact>"
            "<domain:authInfo><domain:pw>x</domain:pw></domain:authInfo></domain:create></create>")


MIX = ["check", "info", "create", "check", "info"]


async def run(port: int, sessions: int, run_id: str, mix: list[str] = MIX) -> dict[str, float | None]:
    latencies: dict[str, list[float]] = defaultdict(list)
    from_start: dict[str, list[float]] = defaultdict(list)  # the warm-up's too
    first: dict[str, list[float]] = defaultdict(list)  # the warm-up's alone
    codes: dict[int, int] = defaultdict(int)
    clients = []
    for _ in range(sessions):
        client = EppClient(port)
        await client.connect()
        assert (await client.login()).code == 1000
        clients.append(client)
    counter = iter(range(TOTAL))
    # each session creates a name before the clock starts, so that its info and check ask about an existing domain
    # from its first command (an info of a missing name is a refusal: 2303 and a command.failed event)
    seeded = []
    for n, client in enumerate(clients):
        seeded.append(f"bench-{run_id}-seed{n}.be")
        assert (await client.command(command("create", seeded[-1]))).code == 1000

    async def worker(client: EppClient, seed: str) -> None:
        created = [seed]
        for done, i in enumerate(counter):
            kind = mix[i % len(mix)]
            name = f"bench-{run_id}-{i}.be" if kind == "create" else created[-1]
            started = time.perf_counter()
            try:
                answer = await client.command(command(kind, name))
            except TimeoutError:  # no answer within the client's 10 s: the session is out of step, it stops
                codes[0] += 1
                return
            took = time.perf_counter() - started
            from_start[kind].append(took)
            if done >= WARMUP:
                latencies[kind].append(took)
            else:
                first[kind].append(took)
            codes[answer.code] += 1
            if kind == "create" and answer.code == 1000:
                created.append(name)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, seed) for c, seed in zip(clients, seeded, strict=True)))
    elapsed = time.perf_counter() - started
    for client in clients:
        with contextlib.suppress(Exception):  # a session that timed out cannot log out
            await client.logout()
        await client.close()
    line = f"sessions={sessions:<3} {TOTAL / elapsed:7.0f} commands/s "
    for kind in sorted(set(mix)):
        q = statistics.quantiles(latencies[kind], n=100)
        line += f"| {kind} p50 {q[49] * 1000:6.1f} ms p99 {q[98] * 1000:6.1f} ms "
    creates = len(from_start["create"]) / elapsed
    start = " / ".join(f"{percentile(from_start[k], 0.99) * 1000:.1f}" for k in ("check", "info") if from_start[k])
    warm = " / ".join(f"{percentile(first[k], 0.5) * 1000:.1f}-{max(first[k]) * 1000:.1f}"
                      for k in ("check", "info") if first[k])
    print(line + f"| creates {creates:5.0f}/s | codes {dict(codes)}"
          + (f" | check/info p99 from the start {start} ms" if start else "")
          + (f" | check/info of the first {WARMUP} commands p50-max {warm} ms" if warm else ""))
    if set(mix) == {"create"}:
        return {f"epp.s{sessions}.creates_only": creates}
    return {f"epp.s{sessions}.creates": creates, f"epp.s{sessions}.commands": TOTAL / elapsed,
            f"epp.s{sessions}.check_p99_ms": percentile(latencies["check"], 0.99) * 1000,
            f"epp.s{sessions}.info_p99_ms": percentile(latencies["info"], 0.99) * 1000,
            f"epp.s{sessions}.check_p99_from_start_ms": percentile(from_start["check"], 0.99) * 1000,
            f"epp.s{sessions}.info_p99_from_start_ms": percentile(from_start["info"], 0.99) * 1000,
            f"epp.s{sessions}.create_p50_ms": percentile(latencies["create"], 0.50) * 1000}


async def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, log_level="WARNING", epp_port=0,
                                epp_max_sessions_per_registrar=max(SESSIONS + CREATES_ONLY) + 1,
                                epp_rate_limits={})  # none: the bench measures commands, not the limiter
    app = build(settings)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"commands per run: {TOTAL} (check:info:create = 2:2:1), MONGODB_URL={os.environ.get('MONGODB_URL', 'default')}")
    try:
        async with running(app):
            ctx = app.state.ctx
            await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 10**12}})
            figures: dict[str, float | None] = {}
            for sessions in SESSIONS:
                figures |= await run(ctx.extras["epp_port"], sessions, f"{sessions}{uuid.uuid4().hex[:4]}")
            for sessions in CREATES_ONLY:  # goal 3's figure: the sessions only create, as the raw transaction does
                print("creates only:")
                figures |= await run(ctx.extras["epp_port"], sessions, f"c{sessions}{uuid.uuid4().hex[:4]}", ["create"])
            emit(figures)
    finally:
        await delete_namespace(namespace)


if __name__ == "__main__":
    asyncio.run(main())
