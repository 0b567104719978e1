"""The EPP session cap and rate limits per registrar, counted in MongoDB so that every registry replica sees the
same count (a registrar behind a balancer gets the cap once, not once per replica).

Session slots: a registrar has `limit` slots, documents <registrar>:<k>. A login claims a free one by inserting it
(the unique _id makes two replicas' claims of one slot exclusive) or by taking over one whose lease lapsed (its
replica died); the holder renews its slots' leases while the sessions last and deletes a slot when its session
ends. A crashed replica's slots come free when their lease lapses (EPP_SESSION_LEASE_SECONDS).

Rate limits: a sliding window of `window` seconds per registrar and command class, one document holding the
times of the last `limit` commands. A command is allowed when fewer than `limit` are recorded or the oldest
of them left the window; the test and the push are one conditional update (an upsert that refuses by running
into the existing document's _id), so concurrent replicas cannot both take the last place. One round trip per
counted command. Wall-clock time, not the business clock: replicas share it, tests that move the business
clock must not change who is throttled.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.registry.store import EPP_RATE_WINDOWS, EPP_SESSION_SLOTS
from shared.mongo.client import Document

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class SessionTable:
    """Open EPP sessions per registrar, shared by the replicas through MongoDB."""

    def __init__(self, db: AsyncDatabase[Document], limit: int, instance: str, lease_seconds: float = 30.0) -> None:
        self.collection = db[EPP_SESSION_SLOTS]
        self.limit, self.instance = limit, instance
        self.lease = timedelta(seconds=lease_seconds)
        self.held: dict[str, str] = {}  # session id -> slot id, the slots this process holds

    async def claim(self, session_id: str, registrar_id: str) -> bool:
        """Take a free slot of the registrar's for the session; False when all `limit` are held."""
        now = _now()
        fields = {"registrar_id": registrar_id, "session_id": session_id, "instance": self.instance,
                  "claimed_at": now, "expires_at": now + self.lease}
        for k in range(self.limit):
            slot = f"{registrar_id}:{k}"
            try:
                await self.collection.insert_one({"_id": slot, **fields})
            except DuplicateKeyError:  # held: taken over only if its holder stopped renewing it
                taken = await self.collection.update_one({"_id": slot, "expires_at": {"$lte": now}}, {"$set": fields})
                if taken.modified_count != 1:
                    continue
                log.info("EPP session slot %s taken over from a lapsed lease", slot)
            self.held[session_id] = slot
            return True
        return False

    async def release(self, session_id: str) -> None:
        slot = self.held.pop(session_id, None)
        if slot is not None:
            await self.collection.delete_one({"_id": slot, "session_id": session_id})

    async def renew(self) -> None:
        """Extend the leases of the slots this process holds (called every third of the lease)."""
        if not self.held:
            return
        done = await self.collection.update_many(
            {"_id": {"$in": list(self.held.values())}, "instance": self.instance},
            {"$set": {"expires_at": _now() + self.lease}})
        if done.matched_count < len(self.held):
            log.warning("%d of %d EPP session slots were lost (their lease lapsed); they count again once claimed",
                        len(self.held) - done.matched_count, len(self.held))

    async def release_all(self) -> None:
        for session_id in list(self.held):
            with contextlib.suppress(Exception):
                await self.release(session_id)


class RateLimiter:
    """A sliding window per (registrar, command class), shared by the replicas through MongoDB."""

    def __init__(self, db: AsyncDatabase[Document], limits: dict[str, int], window: float = 60.0) -> None:
        self.collection = db[EPP_RATE_WINDOWS]
        self.limits = limits
        self.window = timedelta(seconds=window)

    async def allow(self, registrar_id: str, kind: str) -> bool:
        limit = self.limits.get(kind)
        if limit is None:
            return True
        now = _now()
        room: dict[str, Any] = {"$or": [{f"times.{limit - 1}": {"$exists": False}},
                                        {"times.0": {"$lte": now - self.window}}]}
        try:
            await self.collection.update_one(
                {"_id": f"{registrar_id}:{kind}", **room},
                {"$push": {"times": {"$each": [now], "$sort": 1, "$slice": -limit}}, "$set": {"expires_at": now + self.window}},
                upsert=True)
        except DuplicateKeyError:  # the window is full: the upsert ran into the registrar's document
            return False
        return True
