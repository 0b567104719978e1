"""The reporting application: generates the daily reports and the quarterly report from the read models,
answers the top lists. It reads and writes the reporting database around the rules and renderers in
daily.py, quarterly.py, toplists.py and render.py.

Daily generation streams: one cursor per report over every registrar's rows in (registrar, name) order,
each row written to the open files as it arrives, the files of a registrar closed when the cursor moves
to the next. Memory is a cursor batch and two file buffers, whatever the registry's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting import daily, render, runs
from services.reporting.metrics import ReportingMetrics
from services.reporting.periods import day_of, months_of
from services.reporting.quarterly import Fact, Facts, Figures, Metric, benchmark_groups, figures, groups_of
from services.reporting.readmodel import ReadModel
from services.reporting.settings import ReportingSettings
from services.reporting.store import CONTACTS, DOMAINS, FACTS, GROUPS, JOBS, PORTFOLIOS, REGISTRARS, REPORTS
from shared.clock import brussels
from shared.events import new_event
from shared.events.reports import DailyReportsGenerated, QuarterlyReportReady
from shared.mongo.client import Document
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
REGISTRAR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
BATCH = 2_000
PREFETCH = 4  # batches read ahead of the writing


@dataclass(frozen=True)
class DailyRun:
    day: str
    registrars: int
    rows: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class QuarterlyRun:
    quarter: str
    registrars: int
    seconds: float


class Reporting:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        s: ReportingSettings = ctx.settings  # type: ignore[assignment]
        self.settings = s
        self.metrics = ReportingMetrics(ctx.metrics.registry)
        self.read_model = ReadModel(lambda: self.ctx.db, self.metrics, ctx.clock,
                                    (s.recurring_bounce_min_days, s.recurring_bounce_max_days))
        self.boundaries = {"revokes": s.stars_revokes, "bounces": s.stars_bounces, "infections": s.stars_infections,
                           "support": s.stars_support}

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db

    @property
    def root(self) -> Path:
        return self.settings.reports_dir

    def daily_dir(self, registrar_id: str) -> Path:
        return self.root / "daily" / registrar_id

    def quarterly_dir(self, registrar_id: str) -> Path:
        return self.root / "quarterly" / registrar_id

    async def registrar_ids(self) -> list[str]:
        """Every registrar the events have named (registrar.created, or a portfolio)."""
        known = {d["_id"] for d in await self.db[REGISTRARS].find({}, {"_id": 1}).to_list()}
        known |= {d["_id"] for d in await self.db[PORTFOLIOS].find({}, {"_id": 1}).to_list()}
        return sorted(r for r in known if REGISTRAR_ID.match(r))

    # -- daily ------------------------------------------------------------------------------------------------

    async def generate_daily(self) -> DailyRun:
        """Every registrar's daily reports; RunInProgress while another run (any replica) is under way."""
        async with runs.exclusive(self.db, "daily", self.settings.instance_id):
            try:
                run = await self._generate_daily()
            except Exception:
                self.metrics.failed.labels("daily").inc()
                raise
            self.metrics.generated.labels("daily").inc()
            self.metrics.duration.labels("daily").observe(run.seconds)
            self.metrics.last_generated.labels("daily").set(time.time())
            log.info("daily reports generated", extra={"registrars": run.registrars, "seconds": round(run.seconds, 2)})
            return run

    async def _generate_daily(self) -> DailyRun:
        started = time.monotonic()
        now = self.ctx.clock.now()
        registrars = await self.registrar_ids()
        rows: dict[str, int] = {}
        sources: list[tuple[daily.Kind, str, dict[str, Any], Any]] = [
            (daily.REGISTRATIONS, DOMAINS, {}, daily.registration_row),
            (daily.CONTACTS, CONTACTS, {}, lambda d: (d["_id"], d.get("type", ""), d.get("status", ""))),
            (daily.NSGROUPS, GROUPS, {"kind": "nsgroup"}, lambda d: (d["name"],)),
            (daily.KEYGROUPS, GROUPS, {"kind": "keygroup"}, lambda d: (d["name"],)),
        ]
        for kind, collection, query, to_row in sources:
            rows[kind.name] = await self._stream(kind, collection, query, to_row, registrars, now)
            self.metrics.rows.labels(kind.name).inc(rows[kind.name])
        stamp = {"generated_at": now, "rows": rows}
        await self.db[REPORTS].update_one({"_id": "daily"}, {"$set": stamp}, upsert=True)
        seconds = time.monotonic() - started
        day = day_of(now)
        await self._publish(DailyReportsGenerated(day=day, registrars=len(registrars), domains=rows["registrations"],
                                                  seconds=round(seconds, 3)), None)
        return DailyRun(day, len(registrars), rows, seconds)

    async def _stream(self, kind: daily.Kind, collection: str, query: dict[str, Any], to_row: Any,
                      registrars: list[str], now: datetime) -> int:
        """Write one report for every registrar from one cursor sorted by registrar then name."""
        wanted = set(registrars)
        done: set[str] = set()
        files: daily.ReportFiles | None = None
        current: str | None = None
        total = 0
        sort = [("registrar_id", ASCENDING), ("_id", ASCENDING)] if collection != GROUPS else \
            [("kind", ASCENDING), ("registrar_id", ASCENDING), ("name", ASCENDING)]
        batches: asyncio.Queue[list[Document] | None] = asyncio.Queue(maxsize=PREFETCH)
        reader = asyncio.create_task(self._read(collection, query, sort, batches))
        try:
            while (batch := await batches.get()) is not None:
                for doc in batch:
                    registrar = doc.get("registrar_id")
                    if registrar != current:
                        if files is not None:
                            files.close()
                            files = None
                        current = registrar
                        if registrar in wanted:
                            files = daily.ReportFiles(self.daily_dir(registrar), kind, registrar, now)
                            done.add(registrar)
                    if files is not None:
                        files.write(to_row(doc))
                        total += 1
                await asyncio.sleep(0)  # let the consumer and HTTP breathe during a long run
            await reader  # raises what the reader raised
            if files is not None:
                files.close()
                files = None
        finally:
            if files is not None:
                files.abort()
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        for registrar in wanted - done:  # nothing of this kind: an empty report, freshly dated
            daily.ReportFiles(self.daily_dir(registrar), kind, registrar, now).close()
        return total

    async def _read(self, collection: str, query: dict[str, Any], sort: list[tuple[str, int]],
                    batches: asyncio.Queue[list[Document] | None]) -> None:
        """Fetch the cursor's batches while the previous ones are written: the database and the writing
        overlap, and at most PREFETCH batches wait in memory."""
        try:
            async with self.db[collection].find(query, batch_size=BATCH).sort(sort) as cursor:
                batch: list[Document] = []
                async for doc in cursor:
                    batch.append(doc)
                    if len(batch) >= BATCH:
                        await batches.put(batch)
                        batch = []
                if batch:
                    await batches.put(batch)
        finally:
            await batches.put(None)

    async def daily_generated_at(self) -> datetime | None:
        doc = await self.db[REPORTS].find_one({"_id": "daily"})
        return doc["generated_at"] if doc else None

    async def observe_daily_age(self) -> float:
        """The age of the newest daily reports as stored (+Inf when there are none), set on the gauge: read from
        the database, so it is right after a restart and whichever replica generated them."""
        generated = await self.daily_generated_at()
        age = (self.ctx.clock.now() - generated).total_seconds() if generated else float("inf")
        self.metrics.daily_age.set(age)
        return age

    # -- top lists --------------------------------------------------------------------------------------------

    async def names(self) -> dict[str, str]:
        return {d["_id"]: str(d.get("name", d["_id"])) for d in await self.db[REGISTRARS].find({}).to_list()}

    async def portfolios(self) -> dict[str, int]:
        return {d["_id"]: int(d.get("domains", 0)) for d in await self.db[PORTFOLIOS].find({}, {"net": 0, "cohorts": 0}).to_list()}

    async def paying_by_registrar(self, month: str) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [{"$match": {"metric": Metric.PAYING.value, "month": month}},
                    {"$group": {"_id": "$registrar_id", "count": {"$sum": "$count"}}}]
        return {d["_id"]: int(d["count"]) for d in await (await self.db[FACTS].aggregate(pipeline)).to_list()}

    # -- quarterly --------------------------------------------------------------------------------------------

    async def generate_quarterly(self, quarter: str) -> QuarterlyRun:
        months = months_of(quarter)  # ValueError for a bad quarter, before anything runs
        async with runs.exclusive(self.db, "quarterly", self.settings.instance_id):
            started = time.monotonic()
            try:
                count = await self._generate_quarterly(quarter, months)
            except Exception:
                self.metrics.failed.labels("quarterly").inc()
                raise
            seconds = time.monotonic() - started
            self.metrics.generated.labels("quarterly").inc()
            self.metrics.duration.labels("quarterly").observe(seconds)
            self.metrics.last_generated.labels("quarterly").set(time.time())
            return QuarterlyRun(quarter, count, seconds)

    async def _generate_quarterly(self, quarter: str, months: list[str]) -> int:
        now = self.ctx.clock.now()
        docs = await self.db[FACTS].find({"month": {"$gte": months[0]}}).to_list()
        portfolio_docs = await self.db[PORTFOLIOS].find({}).to_list()
        facts = Facts.of((Fact(d["registrar_id"], d["month"], Metric(d["metric"]), d.get("key", ""), int(d["count"]))
                          for d in docs if d.get("metric") in Metric._value2member_map_),
                         {d["_id"]: d.get("net", {}) for d in portfolio_docs},
                         {d["_id"]: d.get("cohorts", {}) for d in portfolio_docs})
        portfolios = {d["_id"]: int(d.get("domains", 0)) for d in portfolio_docs}
        registrar_docs = await self.db[REGISTRARS].find({}).to_list()
        names: dict[str, str] = {d["_id"]: str(d.get("name", d["_id"])) for d in registrar_docs}
        categories = {d["_id"]: d.get("category") for d in registrar_docs}
        registrars = await self.registrar_ids()
        groups = {name: figures(members, name, quarter, months, facts, portfolios, self.boundaries)
                  for name, members in benchmark_groups(portfolios, categories).items()}
        generated = brussels(now).isoformat(timespec="minutes")
        for registrar in registrars:
            own = figures([registrar], registrar, quarter, months, facts, portfolios, self.boundaries)
            # its own category's group beside the general ones (categories today: the report is made now)
            compared = {name: groups[name] for name in groups_of(categories.get(registrar)) if name in groups}
            await asyncio.to_thread(self._write_quarterly, own, compared, names.get(registrar, registrar), generated)
            await self._record_quarterly(registrar, quarter, now)
        return len(registrars)

    async def _record_quarterly(self, registrar: str, quarter: str, now: datetime) -> None:
        """The report's record, and its announcement in the same transaction the first time only: a re-run
        (a correction, a retried job) replaces the files but must not mail the registrar again."""
        event = new_event(QuarterlyReportReady(
            quarter=quarter, url=f"{self.settings.public_url.rstrip('/')}/api/reports/quarterly/{quarter}",
            zip_name=render.zip_name(quarter, registrar)), registrar_id=registrar, correlation_id=None,
            clock=self.ctx.clock)
        record_id = f"quarterly:{registrar}:{quarter}"

        async def work(session: AsyncClientSession) -> bool:
            announced = await self.db[REPORTS].find_one({"_id": record_id}, {"_id": 1}, session=session) is not None
            await self.db[REPORTS].update_one(
                {"_id": record_id},
                {"$set": {"registrar_id": registrar, "quarter": quarter, "generated_at": now, "kind": "quarterly"},
                 "$setOnInsert": {"announced_at": now}}, upsert=True, session=session)
            if not announced:
                await self.ctx.outbox.add([event], session)
            return not announced

        if await in_transaction(self.ctx.client, work):
            self.ctx.committed()

    def _write_quarterly(self, own: Figures, groups: dict[str, Figures], name: str, generated: str) -> None:
        directory = self.quarterly_dir(own.registrar_id)
        directory.mkdir(parents=True, exist_ok=True)
        for path, data in ((directory / f"{own.quarter}.html", render.html(own, groups, name, generated).encode()),
                           (directory / render.zip_name(own.quarter, own.registrar_id), render.raw_data(own, groups))):
            partial = daily.partial_path(path)
            partial.write_bytes(data)
            partial.replace(path)

    async def quarters_of(self, registrar_id: str) -> list[dict[str, Any]]:
        return await self.db[REPORTS].find({"kind": "quarterly", "registrar_id": registrar_id}).sort(
            "quarter", -1).to_list()

    # -- events out -------------------------------------------------------------------------------------------

    async def _publish(self, payload: Any, registrar_id: str | None) -> None:
        event = new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=self.ctx.clock)

        async def work(session: AsyncClientSession) -> None:
            await self.ctx.outbox.add([event], session)

        await in_transaction(self.ctx.client, work)
        self.ctx.committed()

    # -- jobs -------------------------------------------------------------------------------------------------

    async def job_marker(self, name: str) -> str | None:
        doc = await self.db[JOBS].find_one({"_id": name})
        return doc.get("value") if doc else None

    async def set_job_marker(self, name: str, value: str) -> None:
        await self.db[JOBS].update_one({"_id": name}, {"$set": {"value": value}}, upsert=True)


def reporting_of(ctx: ServiceContext) -> Reporting:
    reporting = ctx.extras.get("reporting")
    if reporting is None:
        reporting = ctx.extras["reporting"] = Reporting(ctx)
    return reporting
