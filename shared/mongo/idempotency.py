"""Idempotent consumption: an event's effect and the record that it was applied commit together.

A batch's events are recorded in ONE document, their ids in its `event_ids` array, which a unique index (multikey:
one entry per element) keeps unique across documents: the record of a batch holding an event recorded before
fails to insert on the duplicate key. One document per batch, not per event: the insert and its index upkeep were
half the local stand-in's work per event. An event's id is <consumer>:<event id> in processed_events; records
there expire after the TTL (longer than any redelivery can take).

Records of the earlier shape (one document per event, the id as its _id) are still honoured: every batch looks
their ids up by _id (cheap: no array index involved) before it records itself.

A handler that keeps a record of every event it applied anyway (reporting's journal) may name it as its
ledger (BatchHandler(ledger=...)): its events are recorded there instead, one insert per batch fewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bson import ObjectId
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import EventEnvelope
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction

EVENT_IDS = "event_ids"  # a record's events: the ids the ledger gave them (Ledger.record_id)
# every ledger's collection needs it: it is what makes recording an event twice fail. Partial: documents without
# the field (records of the earlier shape, anything else kept there) are not in it.
RECORDS_INDEX = IndexModel(EVENT_IDS, unique=True, partialFilterExpression={EVENT_IDS: {"$exists": True}})

PROCESSED = "processed_events"
PROCESSED_INDEXES = (CollectionIndexes(PROCESSED, (IndexModel("expires_at", expireAfterSeconds=0), RECORDS_INDEX)),)

EventHandler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]


class Ledger(Protocol):
    """Where a consumer records the events it applied, in the transaction that applies them: one record per
    batch, its events' ids in EVENT_IDS (set by the caller), under RECORDS_INDEX. A record of the earlier shape
    has an event's id as its _id."""

    def collection(self) -> AsyncCollection[Document]: ...
    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str: ...
    def record(self, events: Sequence[EventEnvelope[Any]], now: datetime) -> Document: ...


_Key = tuple[Ledger, str]  # a record: its ledger and the event's id there


class ProcessedRecords:
    """The default ledger: processed_events, <consumer>:<event id>, expiring after the TTL."""

    def __init__(self, db: AsyncDatabase[Document], ttl: timedelta) -> None:
        self._collection = db[PROCESSED]
        self.ttl = ttl

    def collection(self) -> AsyncCollection[Document]:
        return self._collection

    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str:
        return f"{consumer}:{event.event_id}"

    def record(self, events: Sequence[EventEnvelope[Any]], now: datetime) -> Document:
        return {"_id": ObjectId(), "applied_at": now, "expires_at": now + self.ttl}


class _AppliedBefore(Exception):
    """A record of the batch met one that exists: some event of it was applied before."""


class BatchHandler:
    """A handler that applies a run of consecutive events at once, in the batch's transaction: one write per
    hot document (a registrar's counter) instead of one per event. Called alone, it applies a run of one.

    `ledger`: where its events are recorded as applied, when the handler keeps such a record anyway (else in
    processed_events)."""

    def __init__(
        self, apply_many: Callable[[Sequence[EventEnvelope[Any]], AsyncClientSession], Awaitable[None]],
        *, ledger: Ledger | None = None,
    ) -> None:
        self.apply_many = apply_many
        self.ledger = ledger

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
        self.records = ProcessedRecords(db, ttl)
        self.collection = self.records.collection()
        self.ttl = ttl
        self._indexed: set[tuple[str, str]] = set()  # ledger collections known to have RECORDS_INDEX

    async def apply_once(self, consumer: str, event: EventEnvelope[Any], handler: EventHandler) -> bool:
        """Run `handler` for `event` unless `consumer` already applied it. True when it ran now."""
        return (await self.apply_batch(consumer, [(event, handler)]))[0]

    async def apply_batch(
        self, consumer: str, items: Sequence[tuple[EventEnvelope[Any], EventHandler]]
    ) -> list[bool]:
        """Apply several events in one transaction, each at most once; says for each whether it ran now.

        One transaction for many events keeps a hot document (a registrar's counter) from being fought
        over by concurrent transactions. Events are nearly always new: the transaction records them first (one
        record per ledger), without reading the array index. If one was applied before (a redelivery, or another
        replica's record inserted meanwhile), that insert fails on the duplicate key, the transaction is abandoned
        with nothing written, and the events are applied one at a time, each recorded alone: one whose record
        exists fails alone, and is left. (Reading which ones exist would take a lookup in the array index, which
        the local stand-in serves by scanning the collection.)"""
        keys = [self._key(consumer, event, handler) for event, handler in items]
        await self._ensure_index({ledger for ledger, _ in keys})
        if len(set(keys)) == len(keys):
            try:
                await in_transaction(self.client, self._applying(items, keys))
                return [True] * len(items)
            except _AppliedBefore:
                pass  # one at a time
        flags: list[bool] = []
        seen: set[_Key] = set()
        for key, item in zip(keys, items, strict=True):
            if key in seen:  # the same event twice in one batch applies once
                flags.append(False)
                continue
            seen.add(key)
            try:
                await in_transaction(self.client, self._applying([item], [key]))
                flags.append(True)
            except _AppliedBefore:
                flags.append(False)
        return flags

    async def _ensure_index(self, ledgers: set[Ledger]) -> None:
        """Without RECORDS_INDEX nothing would stop an event from being recorded, and applied, twice: made sure of
        once per collection (a no-op where start-up created it; not inside a transaction)."""
        for ledger in ledgers:
            collection = ledger.collection()
            name = (collection.database.name, collection.name)
            if name not in self._indexed:
                await collection.create_indexes([RECORDS_INDEX])
                self._indexed.add(name)

    def _key(self, consumer: str, event: EventEnvelope[Any], handler: EventHandler) -> _Key:
        ledger = (handler.ledger if isinstance(handler, BatchHandler) else None) or self.records
        return ledger, ledger.record_id(consumer, event)

    def _applying(self, items: Sequence[tuple[EventEnvelope[Any], EventHandler]],
                  keys: list[_Key]) -> Callable[[AsyncClientSession], Awaitable[None]]:
        return lambda session: self._apply(items, keys, session)

    async def _apply(self, items: Sequence[tuple[EventEnvelope[Any], EventHandler]], keys: list[_Key],
                     session: AsyncClientSession) -> None:
        """Record the events (distinct keys), then apply them, in the caller's transaction; _AppliedBefore when
        any of them was recorded before."""
        now = datetime.now(UTC)
        batches: dict[Ledger, tuple[list[str], list[EventEnvelope[Any]]]] = {}
        for (ledger, record_id), (event, _) in zip(keys, items, strict=True):
            ids, events = batches.setdefault(ledger, ([], []))
            ids.append(record_id)
            events.append(event)
        for ledger, (ids, events) in batches.items():  # nearly always one ledger
            collection = ledger.collection()
            # records of the earlier shape (one per event, the id as _id): looked up by _id
            if await collection.find_one({"_id": {"$in": ids}}, {"_id": 1}, session=session) is not None:
                raise _AppliedBefore
            try:
                await collection.insert_one({**ledger.record(events, now), EVENT_IDS: ids}, session=session)
            except DuplicateKeyError as exc:  # caught here only: a handler's own duplicate key is a failure
                raise _AppliedBefore from exc
        await _run_handlers(items, session)
