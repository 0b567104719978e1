"""The pusher: sends the domains marked dirty to Knot, oldest change first, then clears the mark.

One replica pushes at a time (a lease), so two never race on one name. A batch of domains goes to Knot as one
UPDATE per zone; a domain's mark is cleared only if no event changed it meanwhile (its version), else it is
pushed again in the next round. `published` (the owner names last written) is what the next push deletes
first, so a host that left the delegation takes its glue with it. A released name's record is deleted once it
is out of the zone. A push that fails leaves the marks: the next round sends the same again (idempotent).

Time, not an event, takes an out-of-service domain out of the zone (at the end of its expiry month): once a minute
the pusher marks the out-of-service domains still published whose month has ended (leave_due)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.publication import delegation
from services.publication.knot import Change, Knot, UpdateRefused
from services.publication.metrics import PublicationMetrics
from services.publication.readmodel import dirty
from services.publication.settings import PublicationSettings
from services.publication.store import DOMAINS
from services.publication.zones import ZONE_FIELDS, Groups, load_groups
from shared.clock import Clock
from shared.mongo.client import Document
from shared.mongo.outbox import Lease

log = logging.getLogger(__name__)
PUSH_FIELDS = ZONE_FIELDS | {"published": 1, "version": 1, "dirty_since": 1}
SWEEP_SECONDS = 60.0


class Pusher:
    def __init__(self, db: Callable[[], AsyncDatabase[Document]], knot: Knot, settings: PublicationSettings,
                 metrics: PublicationMetrics, clock: Clock) -> None:
        self._db = db
        self.knot = knot
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db()

    def wake(self) -> None:
        self._wake.set()

    async def push_once(self) -> int:
        """Push one batch of dirty domains; returns how many were pushed."""
        docs = await self.db[DOMAINS].find({"dirty": True}, PUSH_FIELDS).sort(
            [("dirty", ASCENDING), ("dirty_since", ASCENDING)]).limit(self.settings.push_batch).to_list()
        if not docs:
            self.metrics.pending.set(0)
            return 0
        # only the groups the batch's domains use (none: no query)
        users = {d.get("registrar_id") or "" for d in docs if d.get("nsgroups") or d.get("keygroups")}
        groups = await load_groups(self.db, users) if users else Groups()
        now = self.clock.now()
        by_zone: dict[str, list[tuple[dict[str, Any], list[delegation.Record]]]] = {}
        for doc in docs:
            recs = groups.records(doc, self.settings.landing_name_servers, now)
            by_zone.setdefault(doc.get("tld", ""), []).append((doc, recs))
        for zone, items in by_zone.items():
            if zone in self.settings.tlds:
                items = await self._push(zone, items)
                self.metrics.pushed.labels(zone).inc(len(items))
            committed = self.clock.now()
            await self._settle(items)
            for doc, _ in items:
                if doc.get("dirty_since") is not None:
                    since = doc["dirty_since"]
                    lag = committed - (since if since.tzinfo else since.replace(tzinfo=committed.tzinfo))
                    self.metrics.lag.observe(max(0.0, lag.total_seconds()))
        # a batch short of full took every dirty domain there was: no count needed (one round trip less a round)
        self.metrics.pending.set(await self.db[DOMAINS].count_documents({"dirty": True})
                                 if len(docs) == self.settings.push_batch else 0)
        return len(docs)

    async def _push(self, zone: str, items: list[tuple[dict[str, Any], list[delegation.Record]]]
                    ) -> list[tuple[dict[str, Any], list[delegation.Record]]]:
        """Push the batch; if Knot refuses it, push its domains one by one so that one domain Knot will not take
        cannot hold up the others. A domain refused alone is parked (refused: Knot's answer; no longer dirty,
        so the check reports it) and left out of what the caller settles. Returns what went in."""
        try:
            await self.knot.push(zone, [Change(doc.get("published", []), recs) for doc, recs in items])
            return items
        except UpdateRefused as exc:
            if len(items) == 1:
                doc = items[0][0]
                log.error("Knot refused %s; parked until its next change: %s", doc["_id"], exc)
                self.metrics.push_failures.inc()
                await self.db[DOMAINS].update_one({"_id": doc["_id"], "version": doc.get("version")},
                                                  {"$set": {"refused": str(exc)}, "$unset": {"dirty": "", "dirty_since": ""}})
                return []
        accepted = []
        for item in items:
            accepted += await self._push(zone, [item])
        return accepted

    async def _settle(self, items: list[tuple[dict[str, Any], list[delegation.Record]]]) -> None:
        """Clear the marks of the domains no event changed meanwhile (their version), delete the released ones
        now out of the zone, and record on every one what is in Knot now (two bulk writes)."""
        if not items:
            return
        settle: list[UpdateOne | DeleteOne] = []
        record: list[UpdateOne] = []
        for doc, recs in items:
            published = delegation.owners(recs)
            unchanged = {"_id": doc["_id"], "version": doc.get("version")}
            if doc.get("status") == "RELEASED" and not published:
                settle.append(DeleteOne(unchanged))
            else:
                settle.append(UpdateOne(unchanged, {"$set": {"published": published},
                                                    "$unset": {"dirty": "", "dirty_since": "", "refused": ""}}))
            # changed meanwhile: still dirty, and what is in Knot now is what this push wrote
            record.append(UpdateOne({"_id": doc["_id"], "version": {"$ne": doc.get("version")}},
                                    {"$set": {"published": published}}))
        result = await self.db[DOMAINS].bulk_write(settle, ordered=False)
        if result.matched_count + result.deleted_count < len(settle):
            await self.db[DOMAINS].bulk_write(record, ordered=False)

    async def leave_due(self) -> int:
        """Mark the out-of-service domains still in Knot whose expiry month has ended; returns how many."""
        now = self.clock.now()
        due = [doc["_id"] async for doc in self.db[DOMAINS].find(
            {"out_of_service_since": {"$exists": True}, "published": {"$exists": True, "$ne": []}},
            {"status": 1, "out_of_service_since": 1, "expires_at": 1}) if not delegation.in_zone(doc, now)]
        if due:
            await self.db[DOMAINS].update_many({"_id": {"$in": due}}, dirty(now))
        return len(due)

    async def drain(self) -> int:
        """Push until a batch comes back short of full: that one took what there was (what arrives meanwhile wakes
        the next round), so no round ends with an empty query."""
        total = 0
        while True:
            pushed = await self.push_once()
            total += pushed
            if pushed < self.settings.push_batch:
                return total

    async def run(self, owner: str) -> None:
        lease = Lease(self.db, "publication-pusher", owner,
                      timedelta(seconds=max(10.0, self.settings.push_interval_seconds * 3)))
        swept = float("-inf")
        while True:
            try:
                if await lease.acquire():
                    if time.monotonic() - swept >= SWEEP_SECONDS:
                        swept = time.monotonic()
                        await self.leave_due()
                    await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.metrics.push_failures.inc()
                log.exception("pushing to Knot failed; tried again at the next round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.push_interval_seconds)
            self._wake.clear()

    def start(self, owner: str) -> None:
        self._task = asyncio.create_task(self.run(owner), name="publication-pusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
