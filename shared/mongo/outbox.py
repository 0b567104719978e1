"""The transactional outbox and its relay.

A state change and its events are written in one transaction (Outbox.add with the caller's session).
The relay publishes outbox records in order, persistent and with publisher confirms, and deletes each
record only after the broker confirmed it. A crash between confirm and delete publishes that event
again on restart: delivery is at least once, and consumers deduplicate on the event id
(shared.mongo.idempotency), which makes the effect exactly once.

Only one relay per service publishes at a time (a lease in MongoDB), so replicas do not race and
order is kept; another replica takes over when the lease lapses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanKind
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import EventEnvelope
from shared.messaging.publisher import EventPublisher
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.observability.metrics import ServiceMetrics
from shared.observability.tracing import current_carrier, span

log = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "leases"

OUTBOX_INDEXES = (
    # the relay reads in _id order (the default index); event_id is looked up by tests and operators
    CollectionIndexes(OUTBOX, (IndexModel([("event_id", ASCENDING)], unique=True),)),
    CollectionIndexes(LEASES, ()),
)


def _now() -> datetime:
    # infrastructure time, not the business clock: tests that move the business clock must not stall leases
    return datetime.now(UTC)


class Outbox:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[OUTBOX]

    async def add(self, events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        """Write events in the caller's transaction; they are published only if it commits."""
        if not events:
            return
        now = _now()
        trace = current_carrier()  # the command's or handler's trace continues at the relay
        await self.collection.insert_many(
            [
                {
                    "_id": ObjectId(),  # client-made ObjectIds keep the order the events were written in
                    "event_id": str(e.event_id),
                    "event_type": e.event_type,
                    "event_version": e.event_version,
                    "correlation_id": e.correlation_id,
                    "occurred_at": e.occurred_at,
                    "body": e.to_json().decode(),
                    "created_at": now,
                    **({"trace": trace} if trace else {}),
                }
                for e in events
            ],
            ordered=True,
            session=session,
        )


class Lease:
    """A named lease in MongoDB: held by one owner until it lapses or is released."""

    def __init__(self, db: AsyncDatabase[Document], name: str, owner: str, duration: timedelta) -> None:
        self.collection = db[LEASES]
        self.name, self.owner, self.duration = name, owner, duration
        self._held_until: datetime | None = None

    async def acquire(self) -> bool:
        now = _now()
        # renew only when a third of the lease has gone, to keep writes off the hot path
        if self._held_until is not None and self._held_until - now > self.duration * 2 / 3:
            return True
        try:
            await self.collection.update_one(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"expires_at": {"$lte": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self.duration}},
                upsert=True,
            )
        except DuplicateKeyError:  # the upsert collided with a lease someone else holds
            self._held_until = None
            return False
        self._held_until = now + self.duration
        return True

    async def release(self) -> None:
        self._held_until = None
        await self.collection.delete_one({"_id": self.name, "owner": self.owner})


class OutboxRelay:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        publisher: EventPublisher,
        metrics: ServiceMetrics,
        *,
        owner: str,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        lease_seconds: float = 10.0,
        tracer: otel_trace.Tracer | None = None,
    ) -> None:
        self.collection = db[OUTBOX]
        self.tracer = tracer or otel_trace.get_tracer(__name__)
        self.publisher = publisher
        self.metrics = metrics
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lease = Lease(db, "outbox-relay", owner, timedelta(seconds=lease_seconds))
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Called after a local commit so the event goes out without waiting for the next poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            try:
                relayed = await self.relay_once() if await self.lease.acquire() else 0
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                self.metrics.outbox_errors.inc()
                log.exception("outbox relay round failed; the events stay in the outbox")
                relayed, backoff = 0, min(backoff * 2, 10.0)
            if relayed < self.batch_size:  # caught up: sleep until woken or the next poll
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=backoff)
                except TimeoutError:
                    pass

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        try:
            await self.lease.release()
        except Exception:
            log.warning("could not release the outbox lease; it lapses by itself", exc_info=True)

    async def relay_once(self) -> int:
        """Publish the oldest batch; delete what the broker confirmed. Returns how many were confirmed."""
        batch = await self.collection.find({}).sort("_id", ASCENDING).limit(self.batch_size).to_list()
        self.metrics.outbox_pending.set(await self.collection.estimated_document_count())
        if not batch:
            self.metrics.outbox_oldest_age.set(0)
            return 0
        self.metrics.outbox_oldest_age.set((_now() - batch[0]["created_at"]).total_seconds())
        # publish concurrently on one channel (frames go out in order), then wait for every confirm
        results = await asyncio.gather(*(self._publish(doc) for doc in batch), return_exceptions=True)
        confirmed = [doc for doc, res in zip(batch, results, strict=True) if not isinstance(res, BaseException)]
        if confirmed:
            await self.collection.delete_many({"_id": {"$in": [d["_id"] for d in confirmed]}})
            for doc in confirmed:
                self.metrics.outbox_relayed.labels(doc["event_type"]).inc()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise RuntimeError(f"{len(failures)} of {len(batch)} events not confirmed") from failures[0]
        return len(confirmed)

    async def _publish(self, doc: Document) -> None:
        # a child of the span that wrote the event; its context goes on in the message headers
        with span(self.tracer, f"{doc['event_type']} publish", SpanKind.PRODUCER, parent=doc.get("trace", {}),
                  **{"messaging.system": "rabbitmq", "messaging.message.id": doc["event_id"]}):
            await self.publisher.publish_raw(
                doc["body"].encode(),
                event_id=doc["event_id"],
                event_type=doc["event_type"],
                event_version=doc["event_version"],
                correlation_id=doc["correlation_id"],
                occurred_at=doc["occurred_at"],
            )
