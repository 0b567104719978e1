"""The journal: every event the read models applied, kept in the reporting database for good, written in the
consumer's transaction with the events' effect (it is also the consumer's record that they were applied).
Producers delete their outbox once the broker confirms, and no one archives the events, so this is what a rebuild
replays (rebuild.py).

An entry per batch applied (one insert per batch, not per event):
  _id, seq   an ObjectId made when it was applied: the order replayed (the order this replica applied them in;
             competing replicas interleave within a second, which the order-tolerant handlers absorb)
  event_ids  the batch's event ids (the consumer's record, shared/mongo/idempotency.py: unique across entries, so
             an event is journaled, and applied, once: also after its processed-event record expired)
  events     in the order applied: {_id the event id, event_type, occurred_at, body (the envelope as published,
             decoded again on replay)}
Entries of the earlier shape, one per event (_id the event id, seq, event_type, occurred_at, body), are replayed
and honoured alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
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
    """The journal as the consumer's ledger (shared/mongo/idempotency.py): each batch's entry is written, in the
    transaction that applies it, instead of a processed-event record, and a redelivered event finds its entry.
    Entries never expire, so an event is applied once however late it comes back."""

    def __init__(self, db: Callable[[], AsyncDatabase[Document]]) -> None:
        self._db = db  # connected at start-up, after this object is made

    def collection(self) -> AsyncCollection[Document]:
        return self._db()[JOURNAL]

    def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str:
        return str(event.event_id)  # the journal is reporting's alone: no consumer in the id

    def record(self, events: Sequence[EventEnvelope[Any]], now: datetime) -> Document:
        seq = ObjectId()
        return {"_id": seq, "seq": seq, "events": [
            {"_id": str(e.event_id), "event_type": e.event_type, "occurred_at": e.occurred_at,
             "body": e.to_json().decode()} for e in events]}


async def replay(db: AsyncDatabase[Document], batch: int) -> AsyncIterator[list[EventEnvelope[Any]]]:
    """The journaled events in the order applied, a batch at a time (streamed: the journal can be large)."""
    chunk: list[EventEnvelope[Any]] = []
    async with db[JOURNAL].find({}, {"body": 1, "events.body": 1}).sort("seq", ASCENDING) as cursor:
        async for doc in cursor:
            for body in _bodies(doc):
                chunk.append(decode_event(body))
                if len(chunk) >= batch:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


async def event_ids(db: AsyncDatabase[Document], event_type: str | None = None) -> list[str]:
    """The ids of the events journaled (of `event_type`), in the order applied."""
    ids = []
    async with db[JOURNAL].find({}, {"event_type": 1, "events._id": 1, "events.event_type": 1}).sort(
            "seq", ASCENDING) as cursor:
        async for doc in cursor:
            ids += [e["_id"] for e in doc.get("events", [doc]) if event_type in (None, e["event_type"])]
    return ids


def _bodies(doc: Document) -> list[str]:
    return [e["body"] for e in doc["events"]] if "events" in doc else [doc["body"]]
