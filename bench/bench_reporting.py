"""Reporting: generate every registrar's daily reports for a synthetic registry, timing the generation and
measuring its peak memory, for several registry sizes so that the growth shows.

For each size in BENCH_SIZES (domains; default 100000,1700000) across BENCH_REGISTRARS registrars
(default 500; portfolio sizes skewed like a real registry: a few large, many small):
  build     the read model is bulk-inserted directly into a scratch reporting database (domains, one
            contact per 3 domains, 4 name-server groups and 1 key group per registrar). Not the figure.
  generate  a child process starts the reporting service (real broker and database, jobs off) and runs
            the daily generation once: 4 reports x 2 formats per registrar. It prints the wall time and
            its peak RSS (ru_maxrss) before and after, so the generation's own growth is visible.

Run: .venv/bin/python bench/bench_reporting.py  (BENCH_SIZES=100000 for a quick one; BENCH_KEEP=1 keeps
the scratch database and prints its namespace; BENCH_REUSE=<namespace> with one size times the generation
again on it). Figures through the local MongoDB stand-in say more about the stand-in than about
MongoDB: the stand-in's own memory is not in the RSS shown (it is another process).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import AsyncMongoClient

from bench.report import emit
from services.reporting.app import build as build_reporting
from services.reporting.service import reporting_of
from services.reporting.settings import ReportingSettings
from services.reporting.store import CONTACTS, DOMAINS, GROUPS, PORTFOLIOS, REGISTRARS, REPORTING_INDEXES
from shared.mongo.indexes import ensure_indexes
from tests.integration.infra import MONGODB_URL, delete_namespace, running

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100000,1700000").split(",") if s]
N_REGISTRARS = int(os.environ.get("BENCH_REGISTRARS", "500"))
CHUNK = 10_000
REUSE = os.environ.get("BENCH_REUSE", "")  # the namespace of a kept read model


def portfolio_sizes(total: int, registrars: int) -> list[int]:
    """Zipf-like shares (1/rank^0.9): the largest registrar holds a few percent, the smallest a handful."""
    weights = [1 / (i + 1) ** 0.9 for i in range(registrars)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    sizes[0] += total - sum(sizes)
    return sizes


async def build(namespace: str, total: int) -> float:
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_reporting"]
    started = time.monotonic()
    base = datetime(2020, 1, 1, tzinfo=UTC)
    registrars = [f"r{100000 + i}" for i in range(N_REGISTRARS)]
    await db[REGISTRARS].insert_many([{"_id": r, "name": f"Registrar {r}"} for r in registrars])
    sizes = portfolio_sizes(total, N_REGISTRARS)
    await db[PORTFOLIOS].insert_many([{"_id": r, "domains": n} for r, n in zip(registrars, sizes, strict=True)])
    await db[GROUPS].insert_many(
        [{"_id": f"nsgroup:{r}:ns{i}", "kind": "nsgroup", "registrar_id": r, "name": f"ns{i}"}
         for r in registrars for i in range(4)]
        + [{"_id": f"keygroup:{r}:kg", "kind": "keygroup", "registrar_id": r, "name": "kg"} for r in registrars])

    async def flush(collection: str, docs: list[dict]) -> None:
        if docs:
            await db[collection].insert_many(docs, ordered=False)
            docs.clear()

    domains: list[dict] = []
    contacts: list[dict] = []
    n = 0
    for r, size in zip(registrars, sizes, strict=True):
        for i in range(size):
            registered = base + timedelta(minutes=n % 3_000_000)
            holder = f"{r}-c{i // 3}"
            doc = {"_id": f"d{n:07d}-{r}.be" if n % 50 else f"xn--caf-dma{n}.be", "registrar_id": r,
                   "registered_at": registered, "expires_at": registered + timedelta(days=365 * 7),
                   "registrant": holder, "status": "REGISTERED"}
            if n % 97 == 0:
                doc |= {"status": "QUARANTINE", "deletion_date": registered, "available_on": registered}
            domains.append(doc)
            if i % 3 == 0:
                contacts.append({"_id": holder, "registrar_id": r, "type": "REGISTRANT", "status": "VERIFIED"})
            n += 1
            if len(domains) >= CHUNK:
                await flush(DOMAINS, domains)
                await flush(CONTACTS, contacts)
    await flush(DOMAINS, domains)
    await flush(CONTACTS, contacts)
    # indexes after the bulk load: faster on the stand-in (the service creates the same at start-up)
    await ensure_indexes(db, REPORTING_INDEXES)
    seconds = time.monotonic() - started
    await client.close()
    return seconds


async def generate(namespace: str, reports_dir: str) -> dict:
    """In the child process: start the service and time one daily generation."""
    settings = ReportingSettings(namespace=namespace, reports_dir=Path(reports_dir), jobs_enabled=False,
                                 log_level="WARNING")
    app = build_reporting(settings)
    async with running(app):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        reporting = reporting_of(app.state.ctx)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        run = await reporting.generate_daily()
        seconds = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        after = usage.ru_maxrss
        cpu = usage.ru_utime + usage.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024,
            "registrars": run.registrars, "rows": run.rows}


def directory_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


async def main() -> None:
    print(f"reporting daily generation: {N_REGISTRARS} registrars, sizes {SIZES}; stand-in at {MONGODB_URL}")
    for total in SIZES:
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        out = Path(tempfile.mkdtemp(prefix="reports-"))
        try:
            if REUSE:  # a read model kept by an earlier run (BENCH_KEEP=1): generation only
                namespace = REUSE
                build_seconds = float("nan")
            else:
                build_seconds = await build(namespace, total)
            print(f"  {total:>9,} domains: read model built in {build_seconds:.1f} s "
                  f"({total / build_seconds:,.0f} domains/s, not timed below); namespace {namespace}", flush=True)
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--generate", namespace, str(out),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            stdout, stderr = await child.communicate()
            if child.returncode != 0:
                print(stderr.decode()[-3000:])
                raise SystemExit(f"generation failed for {total}")
            figures = json.loads(stdout.decode().strip().splitlines()[-1])
            rows = figures["rows"]
            print(f"  {total:>9,} domains: generated in {figures['seconds']:.1f} s "
                  f"({rows['registrations'] / figures['seconds']:,.0f} registrations/s; CPU in the service "
                  f"{figures['cpu_seconds']:.1f} s, the rest waits on the database), peak RSS "
                  f"{figures['rss_peak_mb']:.0f} MB (after start-up {figures['rss_before_mb']:.0f} MB), "
                  f"{figures['registrars']} registrars, rows {rows}, files {directory_mb(out):,.0f} MB", flush=True)
            emit({f"reporting.{total}.seconds": figures["seconds"], f"reporting.{total}.peak_rss_mb": figures["rss_peak_mb"]})
        finally:
            shutil.rmtree(out, ignore_errors=True)
            if not os.environ.get("BENCH_KEEP") and not REUSE:
                await delete_namespace(namespace)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--generate":
        print(json.dumps(asyncio.run(generate(sys.argv[2], sys.argv[3]))))
    else:
        asyncio.run(main())
