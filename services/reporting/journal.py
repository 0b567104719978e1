"""The journal: every event the read models applied, kept in the reporting database for good, written in the
consumer's transaction with the event's effect (it is also the consumer's record that the event was applied). Producers delete their outbox once the broker confirms, and
no one archives the events, so this is what a rebuild replays (rebuild.py).

  _id   the event id (an event is journaled, and applied, once: also after its processed-event record expired)
  seq   an ObjectId made when it was applied: the order replayed (the order this replica applied them in;
        competing replicas interleave within a second, which the order-tolerant handlers absorb)
  event_type, occurred_at, body (the envelope as published, decoded again on replay)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.store import JOURNAL
from shared.events import EventEnvelope, decode_event
from shared.mongo.client import Document


class Journal:
    """The journal as the consumer's ledger (shared/mongo/idempotency.py): each event's entry is written, in the
    transaction that applies it, instead of a processed-event record, and a redelivered event finds its entry.
    Entries never expire, so an event is applied once however late it comes back."""

    def __init__(self, db: Callable[[], AsyncDatabase[Document]]) -> None:
        self._db = db  # connected at start-up, after this object is made

    def collection(self) -> AsyncCollection[Document]:
        return self._db()[JOURNAL]

    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str:
        return str(event.event_id)  # the journal is reporting's alone: no consumer in the id

    def record(self, record_id: str, event: EventEnvelope[Any], now: datetime) -> Document:
        return {"_id": record_id, "seq": ObjectId(), "event_type": event.event_type, "occurred_at": event.occurred_at,
                "body": event.to_json().decode()}


async def replay(db: AsyncDatabase[Document], batch: int) -> AsyncIterator[list[EventEnvelope[Any]]]:
    """The journaled events in the order applied, a batch at a time (streamed: the journal can be large)."""
    chunk: list[EventEnvelope[Any]] = []
    async with db[JOURNAL].find({}, {"body": 1}, batch_size=batch).sort("seq", ASCENDING) as cursor:
        async for doc in cursor:
            chunk.append(decode_event(doc["body"]))
            if len(chunk) >= batch:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
