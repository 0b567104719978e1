"""The pusher: takes the change records (store.py: `changes`) in the order they were written, sends the current
records of the domains they name to Knot, then deletes exactly those change records.

It never writes a document the consumer writes: what it put in Knot goes to `published` (the owner names, which
the next push deletes first, so a host that left the delegation takes its glue with it), the domains' zone
entries (what a rebuild reads, rendered from the documents it reads for the push) to `zone_entries`, and it only
deletes change records it has read, by _id. So the consumer's transactions never conflict with a push. A change
committed while a push is on its way has a record of its own, left for the next round: nothing is lost, and
pushing a domain twice is harmless (each push replaces what its owner names hold). A push that fails deletes
nothing: the next round (or the next replica after a restart) sends the same again.

One replica pushes at a time (a lease), so two never race on one name. A batch goes to Knot as one UPDATE per
zone. A released name's record is deleted once it is out of the zone. A record naming a group is expanded into
one per domain using it (the expansion sees what committed with it).

Time, not an event, takes an out-of-service domain out of the zone (at the end of its expiry month): once a minute
the pusher records a change for the out-of-service domains still published whose month has ended (leave_due)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.publication import delegation, zone_entries
from services.publication.knot import Change, Knot, UpdateRefused
from services.publication.metrics import PublicationMetrics
from services.publication.readmodel import change
from services.publication.settings import PublicationSettings
from services.publication.store import CHANGES, DOMAINS, MIGRATIONS, PUBLISHED, ZONE_ENTRIES
from services.publication.zones import ZONE_FIELDS, Groups, load_groups
from shared.clock import Clock
from shared.mongo.client import Document
from shared.mongo.outbox import Lease

log = logging.getLogger(__name__)
ADOPTED_MARKS = "pusher-marks-adopted"  # its MIGRATIONS document
PUSH_FIELDS = ZONE_FIELDS | {"state_at": 1}
SWEEP_SECONDS = 60.0
Item = tuple[dict[str, Any], list[delegation.Record]]


def tld_of(name: str) -> str:
    return name.rsplit(".", 1)[-1]


async def expand(db: AsyncDatabase[Document], records: list[Document]) -> list[Document]:
    """One change record per domain using each group the records name (the registrar's own groups)."""
    out: list[Document] = []
    for record in records:
        group = record["group"]
        async for doc in db[DOMAINS].find({"registrar_id": group["registrar_id"], f"{group['kind']}s": group["name"]},
                                          {"_id": 1}):
            out.append(change(doc["_id"], record["at"]))
    return out


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
        """Push the domains of one batch of change records; returns how many records it took."""
        records = await self.db[CHANGES].find({}).sort("_id", ASCENDING).limit(self.settings.push_batch).to_list()
        if not records:
            self.metrics.pending.set(0)
            return 0
        groups_changed = [r for r in records if "group" in r]
        if groups_changed:  # a crash between the two writes expands it twice: harmless
            if expanded := await expand(self.db, groups_changed):
                await self.db[CHANGES].insert_many(expanded)
            await self.db[CHANGES].delete_many({"_id": {"$in": [r["_id"] for r in groups_changed]}})
        since: dict[str, datetime] = {}
        for r in records:
            if "name" in r:
                since[r["name"]] = min(since.get(r["name"], r["at"]), r["at"])
        if since:
            await self._push_names(since)
            await self.db[CHANGES].delete_many({"_id": {"$in": [r["_id"] for r in records if "name" in r]}})
        # a batch short of full took every record there was: no count needed (one round trip less a round)
        self.metrics.pending.set(await self.db[CHANGES].count_documents({})
                                 if len(records) == self.settings.push_batch else 0)
        return len(records)

    async def _push_names(self, since: dict[str, datetime]) -> None:
        names = list(since)
        found, owned = await asyncio.gather(  # two collections, one wait
            self.db[DOMAINS].find({"_id": {"$in": names}}, PUSH_FIELDS).to_list(),
            self.db[PUBLISHED].find({"_id": {"$in": names}}, {"owners": 1}).to_list())
        docs = {d["_id"]: d for d in found}
        published = {d["_id"]: d.get("owners", []) for d in owned}
        # only the groups the batch's domains use (none: no query)
        users = {d.get("registrar_id") or "" for d in docs.values() if d.get("nsgroups") or d.get("keygroups")}
        groups = await load_groups(self.db, users) if users else Groups()
        now = self.clock.now()
        by_zone: dict[str, list[Item]] = {}
        current: list[Document] = []
        for name in names:
            # no record (a released name already deleted): whatever it still has in the zone goes
            doc = docs.get(name) or {"_id": name, "tld": tld_of(name)}
            current.append(doc)
            recs = groups.records(doc, self.settings.landing_name_servers, now)
            by_zone.setdefault(doc.get("tld") or tld_of(name), []).append((doc, recs))
        # the zone entries first: what a rebuild says even of a domain Knot refuses (the check then reports it)
        await self.db[ZONE_ENTRIES].bulk_write(zone_entries.writes(current), ordered=False)
        for doc in current:
            doc["published"] = published.get(doc["_id"], [])
        for zone, items in by_zone.items():
            if zone in self.settings.tlds:
                items = await self._push(zone, items)
                self.metrics.pushed.labels(zone).inc(len(items))
            committed = self.clock.now()
            await self._settle(items)
            for doc, _ in items:
                at = since[doc["_id"]]
                lag = committed - (at if at.tzinfo else at.replace(tzinfo=committed.tzinfo))
                self.metrics.lag.observe(max(0.0, lag.total_seconds()))

    async def _push(self, zone: str, items: list[Item]) -> list[Item]:
        """Push the batch; if Knot refuses it, push its domains one by one so that one domain Knot will not take
        cannot hold up the others. A domain refused alone is parked (refused: Knot's answer, in `published`; its
        change records go, so the check reports it) and left out of what the caller settles. Returns what went
        in."""
        try:
            await self.knot.push(zone, [Change(doc["published"], recs) for doc, recs in items])
            return items
        except UpdateRefused as exc:
            if len(items) == 1:
                doc = items[0][0]
                log.error("Knot refused %s; parked until its next change: %s", doc["_id"], exc)
                self.metrics.push_failures.inc()
                await self.db[PUBLISHED].update_one({"_id": doc["_id"]}, {"$set": {"refused": str(exc)}}, upsert=True)
                return []
        accepted = []
        for item in items:
            accepted += await self._push(zone, [item])
        return accepted

    async def _settle(self, items: list[Item]) -> None:
        """Record what is in Knot now for each domain (`published`), and delete the released ones now out of the
        zone (unless registered again meanwhile: their state_at)."""
        if not items:
            return
        record: list[UpdateOne | DeleteOne] = []
        released: list[DeleteOne] = []
        for doc, recs in items:
            owners = delegation.owners(recs)
            if owners:
                record.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"owners": owners}, "$unset": {"refused": ""}},
                                        upsert=True))
            else:
                record.append(DeleteOne({"_id": doc["_id"]}))
            if doc.get("status") == "RELEASED" and not owners:
                released.append(DeleteOne({"_id": doc["_id"], "status": "RELEASED", "state_at": doc.get("state_at")}))
        await self.db[PUBLISHED].bulk_write(record, ordered=False)
        if released:
            await self.db[DOMAINS].bulk_write(released, ordered=False)

    async def leave_due(self) -> int:
        """Record a change for the out-of-service domains still in Knot whose expiry month has ended; returns how
        many."""
        now = self.clock.now()
        ended = [doc["_id"] async for doc in self.db[DOMAINS].find(
            {"out_of_service_since": {"$exists": True}},
            {"status": 1, "out_of_service_since": 1, "expires_at": 1}) if not delegation.in_zone(doc, now)]
        due = [doc["_id"] for doc in await self.db[PUBLISHED].find(
            {"_id": {"$in": ended}, "owners": {"$ne": []}}, {"_id": 1}).to_list()] if ended else []
        if due:
            await self.db[CHANGES].insert_many([change(name, now) for name in due])
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

    async def adopt_marks(self) -> int:
        """Move what a read model from before the change records kept on its domains (dirty, published) to
        `changes` and `published`; returns how many domains had any. Idempotent: a crash halfway repeats it."""
        moved = 0
        old = {"$or": [{"dirty": {"$exists": True}}, {"published": {"$exists": True}}]}
        async for doc in self.db[DOMAINS].find(old, {"dirty": 1, "dirty_since": 1, "published": 1}):
            if doc.get("published"):
                await self.db[PUBLISHED].update_one({"_id": doc["_id"]},
                                                    {"$setOnInsert": {"owners": doc["published"]}}, upsert=True)
            if doc.get("dirty"):
                await self.db[CHANGES].insert_one(change(doc["_id"], doc.get("dirty_since") or self.clock.now()))
            await self.db[DOMAINS].update_one({"_id": doc["_id"]}, {"$unset": {
                "dirty": "", "dirty_since": "", "published": "", "version": "", "refused": ""}})
            moved += 1
        return moved

    async def adopt_marks_once(self) -> None:
        """adopt_marks once a database, not at every start: it scans every domain (1.7 M for .be)."""
        if await self.db[MIGRATIONS].find_one({"_id": ADOPTED_MARKS}) is not None:
            return
        if moved := await self.adopt_marks():
            log.info("moved the pusher's marks of %d domains to changes and published", moved)
        await self.db[MIGRATIONS].update_one({"_id": ADOPTED_MARKS}, {"$set": {"at": self.clock.now()}}, upsert=True)

    async def run(self, owner: str) -> None:
        lease = Lease(self.db, "publication-pusher", owner,
                      timedelta(seconds=max(10.0, self.settings.push_interval_seconds * 3)))
        swept = float("-inf")
        adopted = False
        while True:
            try:
                if await lease.acquire():
                    if not adopted:
                        await self.adopt_marks_once()
                        adopted = True
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
