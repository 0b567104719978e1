"""Idempotent consumption: an event's effect and the record that it was applied commit together.

The record's id is <consumer>:<event id>; a second delivery of the same event finds it and changes
nothing. Records expire after the TTL (longer than any redelivery can take).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import EventEnvelope
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction

PROCESSED = "processed_events"
PROCESSED_INDEXES = (CollectionIndexes(PROCESSED, (IndexModel("expires_at", expireAfterSeconds=0),)),)

EventHandler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]


class BatchHandler:
    """A handler that applies a run of consecutive events at once, in the batch's transaction: one write per
    hot document (a registrar's counter) instead of one per event. Called alone, it applies a run of one."""

    def __init__(
        self, apply_many: Callable[[Sequence[EventEnvelope[Any]], AsyncClientSession], Awaitable[None]]
    ) -> None:
        self.apply_many = apply_many

    async def __call__(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        await self.apply_many([event], session)


async def _run_handlers(items: Sequence[tuple[EventEnvelope[Any], EventHandler]], session: AsyncClientSession) -> None:
    """Each event in order; a run of consecutive events for the same BatchHandler goes to it in one call."""
    i = 0
    while i < len(items):
        handler = items[i][1]
        if isinstance(handler, BatchHandler):
            j = i
            while j < len(items) and items[j][1] is handler:
                j += 1
            await handler.apply_many([event for event, _ in items[i:j]], session)
            i = j
        else:
            await handler(items[i][0], session)
            i += 1


class ProcessedEvents:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], ttl: timedelta) -> None:
        self.client = client
        self.collection = db[PROCESSED]
        self.ttl = ttl

    async def apply_once(self, consumer: str, event: EventEnvelope[Any], handler: EventHandler) -> bool:
        """Run `handler` for `event` unless `consumer` already applied it. True when it ran now."""
        return (await self.apply_batch(consumer, [(event, handler)]))[0]

    async def apply_batch(
        self, consumer: str, items: Sequence[tuple[EventEnvelope[Any], EventHandler]]
    ) -> list[bool]:
        """Apply several events in one transaction, each at most once; says for each whether it ran now.

        One transaction for many events keeps a hot document (a registrar's counter) from being fought
        over by concurrent transactions. Events are nearly always new: the transaction inserts their records
        first, without reading (one round trip less). If one was applied before (a redelivery), that insert
        fails on the duplicate key, the transaction is abandoned with nothing written, and a second one reads
        which records exist and applies only the others. A record inserted meanwhile by another replica does
        the same."""
        record_ids = [f"{consumer}:{event.event_id}" for event, _ in items]
        if len(set(record_ids)) == len(record_ids):
            try:
                return await in_transaction(self.client, lambda session: self._apply(items, record_ids, set(), session))
            except DuplicateKeyError:
                pass  # applied before: read which ones
            except BulkWriteError as exc:
                if not _duplicate_keys_only(exc):
                    raise

        async def work(session: AsyncClientSession) -> list[bool]:
            found = await self.collection.find({"_id": {"$in": record_ids}}, {"_id": 1}, session=session).to_list()
            return await self._apply(items, record_ids, {doc["_id"] for doc in found}, session)

        return await in_transaction(self.client, work)

    async def _apply(self, items: Sequence[tuple[EventEnvelope[Any], EventHandler]], record_ids: list[str],
                     done: set[str], session: AsyncClientSession) -> list[bool]:
        """Record and apply the events whose records are not in `done`, in the caller's transaction."""
        now = datetime.now(UTC)
        done = set(done)
        fresh, flags = [], []
        for record_id, (event, handler) in zip(record_ids, items, strict=True):
            flags.append(record_id not in done)
            if record_id not in done:
                done.add(record_id)  # the same event twice in one batch applies once
                fresh.append((record_id, event, handler))
        if fresh:
            await self.collection.insert_many(
                [
                    {"_id": rid, "event_type": e.event_type, "applied_at": now, "expires_at": now + self.ttl}
                    for rid, e, _ in fresh
                ],
                session=session,
            )
            await _run_handlers([(event, handler) for _, event, handler in fresh], session)
        return flags


def _duplicate_keys_only(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == 11000 for e in errors)
