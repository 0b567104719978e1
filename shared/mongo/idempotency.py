"""Idempotent consumption: an event's effect and the record that it was applied commit together.

The record's id is <consumer>:<event id>; a second delivery of the same event finds it and changes
nothing. Records expire after the TTL (longer than any redelivery can take).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import EventEnvelope
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction

PROCESSED = "processed_events"
PROCESSED_INDEXES = (CollectionIndexes(PROCESSED, (IndexModel("expires_at", expireAfterSeconds=0),)),)

EventHandler = Callable[[EventEnvelope[Any], AsyncClientSession], Awaitable[None]]


class _AlreadyApplied(Exception):
    pass


class ProcessedEvents:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], ttl: timedelta) -> None:
        self.client = client
        self.collection = db[PROCESSED]
        self.ttl = ttl

    async def apply_once(self, consumer: str, event: EventEnvelope[Any], handler: EventHandler) -> bool:
        """Run `handler` for `event` unless `consumer` already applied it. True when it ran now."""
        record_id = f"{consumer}:{event.event_id}"

        async def work(session: AsyncClientSession) -> None:
            now = datetime.now(UTC)
            try:
                await self.collection.insert_one(
                    {"_id": record_id, "event_type": event.event_type, "applied_at": now, "expires_at": now + self.ttl},
                    session=session,
                )
            except DuplicateKeyError as exc:
                raise _AlreadyApplied from exc
            await handler(event, session)

        try:
            await in_transaction(self.client, work)
        except _AlreadyApplied:
            return False
        return True
