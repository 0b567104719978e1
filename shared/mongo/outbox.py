"""The transactional outbox and its relay.

A state change and its events are written in one transaction (Outbox.add with the caller's session).
The relay publishes outbox records in order, persistent and with publisher confirms, and deletes each
record only after the broker confirmed it. A crash between confirm and delete publishes that event
again on restart: delivery is at least once, and consumers deduplicate on the event id
(shared.mongo.idempotency), which makes the effect exactly once.

Only one relay per service publishes at a time (a lease in MongoDB), so replicas do not race and
order is kept; another replica takes over when the lease lapses.

Each round reads batches (in _id order) until it has caught up: each batch is published in one write to the
broker (shared/messaging/publisher.py) with every confirm awaited together, under one span for the batch, and
what was confirmed is deleted in one transaction. Two batches overlap (the next is read
and published while the one before is confirmed and deleted), so a backlog drains at about the broker's
publishing rate. While the broker is away a round fails: the relay says so once (a warning, no traceback),
then retries with exponential back-off that commits do not cut short, and says when it publishes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from bson import ObjectId
from pymongo import ASCENDING, DeleteOne
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, Status, StatusCode
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import EventEnvelope
from shared.messaging.publisher import EventPublisher, OutgoingEvent
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction
from shared.observability.metrics import ServiceMetrics
from shared.retry import TRANSIENT_BROKER_ERRORS, TRANSIENT_DATABASE_ERRORS
from shared.observability.tracing import Carrier, carrier_of, current_carrier, message_trace, start_batch_span

log = logging.getLogger(__name__)

# what aio-pika and FastStream raise while the connection to the broker is down or being re-established
_BROKER_STATE_ERRORS: tuple[type[BaseException], ...] = (ChannelInvalidStateError, AMQPError)


class NotConfirmed(RuntimeError):
    """Some events of a batch were not confirmed by the broker; they stay in the outbox."""

OUTBOX = "outbox"
LEASES = "leases"
PENDING_COUNT_SECONDS = 10.0  # the backlog is counted at most this often (OutboxRelay._pending_gauge)

OUTBOX_INDEXES = (
    # the relay reads in _id order (the default index) and nothing else queries the outbox on the hot path: the
    # event_id index that operators once looked up by cost every event an index entry written at insert and
    # removed at delete (without it bench_event_pipeline went from 1,140-1,259 to 1,310-1,394 events a second, two
    # pairs back to back on the local stand-in); an outbox is small unless
    # the broker is away, and a lookup by event_id is rare
    CollectionIndexes(OUTBOX, (), retired=("event_id_1",)),
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
        await self.collection.insert_many(self.records(events), ordered=True, session=session)

    def records(self, events: Sequence[EventEnvelope[Any]], trace: Carrier | None = None) -> list[Document]:
        """The outbox documents of events, for a caller that inserts them in its transaction with other writes
        in one command (add is the usual way). `trace`: the context they continue, when not the active one (an
        event written after the request that caused it)."""
        now = _now()
        if trace is None:
            trace = current_carrier()  # the command's or handler's trace continues at the relay
        return [
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
        ]


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
        max_backoff_seconds: float = 30.0,
        publish_timeout_seconds: float = 15.0,
        tracer: otel_trace.Tracer | None = None,
    ) -> None:
        self.collection = db[OUTBOX]
        self.tracer = tracer or otel_trace.get_tracer(__name__)
        self.publisher = publisher
        self.metrics = metrics
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.publish_timeout_seconds = publish_timeout_seconds
        self.lease = Lease(db, "outbox-relay", owner, timedelta(seconds=lease_seconds))
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._gauge_at: float | None = None  # when the backlog was last counted
        self.failing_since: float | None = None  # monotonic time of the first failed round of a run of failures

    def wake(self) -> None:
        """Called after a local commit so the event goes out without waiting for the next poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = self.poll_seconds
        failures = 0
        while not self._stopping:
            # cleared before the round reads, not when it goes to sleep: a commit that wakes the relay while a
            # round is under way (after its read) must not be forgotten, or its event waits a whole poll interval
            self._wake.clear()
            try:
                if await self.lease.acquire():
                    await self.relay_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.metrics.outbox_errors.inc()
                failures += 1
                if failures == 1:
                    self.failing_since = time.monotonic()
                    self._log_failure(exc)
                backoff = min(self.poll_seconds * 2 ** failures, self.max_backoff_seconds)
                log.debug("outbox relay round %d failed (%s); next try in %.1f s", failures, exc, backoff)
                # a commit's wake must not cut the back-off short: every commit would retry at once
                await self._sleep(backoff, wakeable=False)
                continue
            if failures:
                log.warning("outbox relay publishing again after %d failed rounds (%.0f s)", failures,
                            time.monotonic() - (self.failing_since or time.monotonic()))
                failures, self.failing_since = 0, None
            # caught up (or the lease is another's): sleep until woken or the next poll
            await self._sleep(self.poll_seconds, wakeable=True)

    def _log_failure(self, exc: BaseException) -> None:
        """One line for the start of a run of failures; the broker being away is expected and needs no traceback."""
        cause = exc.__cause__ if isinstance(exc, NotConfirmed) and exc.__cause__ else exc
        if isinstance(cause, TRANSIENT_BROKER_ERRORS + TRANSIENT_DATABASE_ERRORS + _BROKER_STATE_ERRORS):
            log.warning("outbox relay cannot publish (%s: %s); the events stay in the outbox and it retries with "
                        "back-off up to %.0f s", type(cause).__name__, cause, self.max_backoff_seconds)
        else:
            log.exception("outbox relay round failed; the events stay in the outbox and it retries with back-off")

    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        waits = [asyncio.ensure_future(self._stopped.wait())]
        if wakeable:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        try:
            await self.lease.release()
        except Exception:
            log.warning("could not release the outbox lease; it lapses by itself", exc_info=True)

    async def relay_once(self) -> int:
        """Publish the oldest batch; delete what the broker confirmed. Returns how many were confirmed."""
        batch = await self._read(set())
        return await self._settle(batch, self._publishing(batch)) if batch else 0

    async def relay_all(self) -> int:
        """Relay batch after batch until a read finds less than a full batch (caught up), the lease is another's or
        the relay stops. Returns how many were confirmed.

        Two batches overlap: the next is read and its publishing started while the broker confirms the one
        before, which is then deleted while the next is being confirmed. A round costs about its publishing, not
        its read, publishing and delete one after the other. Frames still go out in _id order on the one channel;
        the next read skips the batch in flight (it is deleted only once confirmed)."""
        relayed = 0
        batch = await self._read(set())
        publishing = self._publishing(batch) if batch else None
        while publishing is not None:
            ahead: list[Document] = []
            ahead_publishing: asyncio.Task[list[BaseException | None]] | None = None
            try:
                if len(batch) == self.batch_size and not self._stopping and await self.lease.acquire():
                    ahead = await self._read({doc["_id"] for doc in batch})
                    ahead_publishing = self._publishing(ahead) if ahead else None
            except BaseException:
                _abandon(publishing)  # its records stay in the outbox: published again later
                raise
            try:
                relayed += await self._settle(batch, publishing)
            except asyncio.CancelledError:
                if ahead_publishing is not None:
                    _abandon(ahead_publishing)
                raise
            except Exception:
                if ahead_publishing is not None:  # settle what is in flight too (its confirmed ones go), then fail
                    with contextlib.suppress(Exception):
                        await self._settle(ahead, ahead_publishing)
                raise
            batch, publishing = ahead, ahead_publishing
        return relayed

    async def _read(self, in_flight: set[ObjectId]) -> list[Document]:
        """The oldest batch, without the records in flight. No range on _id to start after them: the local stand-in
        scans the whole collection for one, so it reads as many more as are in flight and leaves those out."""
        docs = await self.collection.find({}).sort("_id", ASCENDING).limit(self.batch_size + len(in_flight)).to_list()
        await self._pending_gauge(len(docs) - len(in_flight))
        if not docs:
            self.metrics.outbox_oldest_age.set(0)
            return []
        self.metrics.outbox_oldest_age.set((_now() - docs[0]["created_at"]).total_seconds())
        return [doc for doc in docs if doc["_id"] not in in_flight][:self.batch_size]

    def _publishing(self, batch: list[Document]) -> asyncio.Task[list[BaseException | None]]:
        """Publish the batch in one write on one channel (frames go out in order) and wait for every confirm: the
        outcome of each (None, or what it failed with). While the connection is being re-established a publish
        waits for it: the batch gives up after a while instead."""

        async def publish() -> list[BaseException | None]:
            # one span for the batch, linked to each event's context; the messages carry the event's own
            span = start_batch_span(self.tracer, "outbox publish", [doc.get("trace") for doc in batch],
                                    {"messaging.system": "rabbitmq", "messaging.operation.type": "publish",
                                     "messaging.batch.message_count": len(batch)})
            own = carrier_of(span)
            results: list[BaseException | None] = [None] * len(batch)  # if abandoned: the span ends as it is
            try:
                async with asyncio.timeout(self.publish_timeout_seconds):
                    try:
                        results = await self.publisher.publish_batch([
                            OutgoingEvent(doc["body"].encode(), doc["event_id"], doc["event_type"],
                                          doc["event_version"], doc["correlation_id"], doc["occurred_at"],
                                          message_trace(doc.get("trace")) or own)
                            for doc in batch])
                    except Exception as exc:  # nothing went out (the channel is closed): the batch failed as a whole
                        results = [exc] * len(batch)
            except TimeoutError as exc:
                results = [exc] * len(batch)
                raise NotConfirmed(f"the broker confirmed none of {len(batch)} events within "
                                   f"{self.publish_timeout_seconds:.0f} s") from exc
            finally:
                _end(span, results)
            return results

        return asyncio.ensure_future(publish())

    async def _settle(self, batch: list[Document], publishing: asyncio.Task[list[BaseException | None]]) -> int:
        """Wait for the batch's confirms, delete what was confirmed, and fail if anything was not."""
        results = await publishing
        confirmed = [doc for doc, res in zip(batch, results, strict=True) if res is None]
        if confirmed:
            # one bulk of deletes by _id, each an _id lookup (a delete_many with $in costs the stand-in more), in
            # one transaction: one commit and one oplog entry for the batch instead of one per delete (on the local
            # stand-in a fifth less of its CPU per relayed event)
            deletes = [DeleteOne({"_id": d["_id"]}) for d in confirmed]
            await in_transaction(self.collection.database.client,
                                 lambda session: self.collection.bulk_write(deletes, ordered=False, session=session))
            for event_type, n in Counter(doc["event_type"] for doc in confirmed).items():
                self.metrics.outbox_relayed.labels(event_type).inc(n)
        failures = [r for r in results if r is not None]
        if failures:
            raise NotConfirmed(f"{len(failures)} of {len(batch)} events not confirmed") from failures[0]
        return len(confirmed)

    async def _pending_gauge(self, read: int) -> None:
        """The backlog gauge: a count is a round trip of its own (on the local stand-in a scan of the whole outbox
        that holds up every other operation), so while backlogged at most every 10 s: Prometheus scrapes every 15 s.
        A round that reads less than a batch knows the backlog without one."""
        if read < self.batch_size:
            self.metrics.outbox_pending.set(read)
        elif self._gauge_at is None or time.monotonic() - self._gauge_at > PENDING_COUNT_SECONDS:
            self._gauge_at = time.monotonic()
            self.metrics.outbox_pending.set(await self.collection.estimated_document_count())


def _end(span: Span, results: list[BaseException | None]) -> None:
    """End a batch's span: with what failed, if anything did (abandoned unsettled: as it is)."""
    failures = [r for r in results if r is not None]
    if failures:
        span.record_exception(failures[0])
        span.set_status(Status(StatusCode.ERROR, f"{len(failures)} of {len(results)} events not confirmed"))
    span.end()


def _abandon(task: asyncio.Task[list[BaseException | None]]) -> None:
    """Cancel a batch's publishing that nobody will settle (and take its outcome, so none is reported as lost)."""
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
