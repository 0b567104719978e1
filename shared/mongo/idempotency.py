"""Idempotent consumption: an event's effect and the record that it was applied commit together.

The record's id is <consumer>:<event id>; a second delivery of the same event finds it and changes
nothing. Records expire after the TTL (longer than any redelivery can take).

A handler that keeps a record of every event it applied anyway (reporting's journal) may name it as its
ledger (BatchHandler(ledger=...)): its events are recorded there instead, one insert per event fewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import EventEnvelope
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction

PROCESSED = "processed_events"
PROCESSED_INDEXES = (CollectionIndexes(PROCESSED, (IndexModel("expires_at", expireAfterSeconds=0),)),)

EventHandler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]


class Ledger(Protocol):
    """Where a consumer records the events it applied, in the transaction that applies them. Record ids are
    unique (_id): recording an event a second time fails on the duplicate key."""

    def collection(self) -> AsyncCollection[Document]: ...
    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str: ...
    def record(self, record_id: str, event: EventEnvelope[Any], now: datetime) -> Document: ...


_Key = tuple[Ledger, str]  # a record: its ledger and its id there


class ProcessedRecords:
    """The default ledger: processed_events, <consumer>:<event id>, expiring after the TTL."""

    def __init__(self, db: AsyncDatabase[Document], ttl: timedelta) -> None:
        self._collection = db[PROCESSED]
        self.ttl = ttl

    def collection(self) -> AsyncCollection[Document]:
        return self._collection

    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str:
        return f"{consumer}:{event.event_id}"

    def record(self, record_id: str, event: EventEnvelope[Any], now: datetime) -> Document:
        return {"_id": record_id, "event_type": event.event_type, "applied_at": now, "expires_at": now + self.ttl}


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
        keys = [self._key(consumer, event, handler) for event, handler in items]
        if len(set(keys)) == len(keys):
            try:
                return await in_transaction(self.client, lambda session: self._apply(items, keys, set(), session))
            except DuplicateKeyError:
                pass  # applied before: read which ones
            except BulkWriteError as exc:
                if not _duplicate_keys_only(exc):
                    raise

        async def work(session: AsyncClientSession) -> list[bool]:
            done: set[_Key] = set()
            for ledger, ids in _by_ledger(keys).items():
                found = await ledger.collection().find({"_id": {"$in": ids}}, {"_id": 1}, session=session).to_list()
                done.update((ledger, doc["_id"]) for doc in found)
            return await self._apply(items, keys, done, session)

        return await in_transaction(self.client, work)

    def _key(self, consumer: str, event: EventEnvelope[Any], handler: EventHandler) -> _Key:
        ledger = (handler.ledger if isinstance(handler, BatchHandler) else None) or self.records
        return ledger, ledger.record_id(consumer, event)

    async def _apply(self, items: Sequence[tuple[EventEnvelope[Any], EventHandler]], keys: list[_Key],
                     done: set[_Key], session: AsyncClientSession) -> list[bool]:
        """Record and apply the events whose records are not in `done`, in the caller's transaction."""
        now = datetime.now(UTC)
        done = set(done)
        fresh: list[tuple[EventEnvelope[Any], EventHandler]] = []
        records: dict[Ledger, list[Document]] = {}
        flags = []
        for key, (event, handler) in zip(keys, items, strict=True):
            flags.append(key not in done)
            if key not in done:
                done.add(key)  # the same event twice in one batch applies once
                fresh.append((event, handler))
                ledger, record_id = key
                records.setdefault(ledger, []).append(ledger.record(record_id, event, now))
        for ledger, docs in records.items():  # one insert per ledger: nearly always one
            await ledger.collection().insert_many(docs, session=session)
        if fresh:
            await _run_handlers(fresh, session)
        return flags


def _by_ledger(keys: Sequence[_Key]) -> dict[Ledger, list[str]]:
    ids: dict[Ledger, list[str]] = {}
    for ledger, record_id in keys:
        ids.setdefault(ledger, []).append(record_id)
    return ids


def _duplicate_keys_only(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == 11000 for e in errors)
