"""The journal: every event the read models applied, kept in the reporting database for good, written in the
consumer's transaction with the event's effect. Producers delete their outbox once the broker confirms, and
no one archives the events, so this is what a rebuild replays (rebuild.py).

  _id   the event id (an event is journaled, and applied, once: also after its processed-event record expired)
  seq   an ObjectId made when it was applied: the order replayed (the order this replica applied them in;
        competing replicas interleave within a second, which the order-tolerant handlers absorb)
  event_type, occurred_at, body (the envelope as published, decoded again on replay)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.store import JOURNAL
from shared.events import EventEnvelope, decode_event
from shared.mongo.client import Document


async def record(db: AsyncDatabase[Document], events: Sequence[EventEnvelope[Any]],
                 session: AsyncClientSession) -> list[EventEnvelope[Any]]:
    """Journal the events not journaled before, in the caller's transaction; returns those (to apply)."""
    ids = [str(e.event_id) for e in events]
    seen = {d["_id"] for d in await db[JOURNAL].find({"_id": {"$in": ids}}, {"_id": 1}, session=session).to_list()}
    fresh: list[EventEnvelope[Any]] = []
    for event_id, event in zip(ids, events, strict=True):
        if event_id not in seen:
            seen.add(event_id)
            fresh.append(event)
    if fresh:
        await db[JOURNAL].insert_many([
            {"_id": str(e.event_id), "seq": ObjectId(), "event_type": e.event_type, "occurred_at": e.occurred_at,
             "body": e.to_json().decode()}
            for e in fresh], ordered=True, session=session)
    return fresh


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
