"""Consuming events in batches: take what has arrived, decode it, apply it in one transaction, then ack.

The service's queue is consumed with aio-pika directly, on a channel of its own with the prefetch count
(PREFETCH_COUNT) as the limit of deliveries in flight. FastStream has no batch consumer for RabbitMQ, and
its per-message path (context, middlewares, decoding) was most of the consumer's CPU.

Deliveries are only buffered as they arrive; one worker takes up to CONSUME_BATCH_SIZE of them at a time
(no waiting: a lone event is applied at once, a burst in few transactions), in arrival order:
  - undecodable or unexpected message  -> reject, no requeue: dead-lettered at once (a poison message),
                                          alone: the rest of its batch goes on
  - published by a user that may not publish its type (the AMQP user_id, validated by RabbitMQ, against
    the type's producer: shared/messaging/access.py) -> dead-lettered the same way
  - the others are applied in ONE transaction together with their processed-event record (one per batch:
    shared.mongo.idempotency), then acknowledged with one `multiple` ack (one per channel, should a
    reconnect have put deliveries of two channels in one batch)
  - if the batch's transaction fails, its events are applied one by one, so one bad event cannot take
    innocent ones with it: the bad one is nacked with requeue, and the quorum queue's delivery limit
    dead-letters it after `delivery_limit` attempts
Exactly once: nothing is acked before its transaction committed. A crash before the commit leaves the
whole batch unacked and without records: it is redelivered and applied then. A crash between commit and
ack redelivers events whose records exist: acked again, applied never twice.

Order: a batch is applied in delivery order, and the next batch only after this one is settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.events import CATALOGUE, EventEnvelope, EventPayload, UndecodableEvent, decode_event
from shared.messaging.access import publisher_may_publish
from shared.mongo.idempotency import BatchHandler, EventHandler, ProcessedEvents
from shared.observability.logging import correlation
from shared.observability.metrics import ServiceMetrics
from shared.observability.tracing import context_from, within

log = logging.getLogger(__name__)

KNOWN_TYPES = {event_type for event_type, _ in CATALOGUE}

Handlers = Mapping[type[EventPayload], EventHandler]


class Delivery(Protocol):
    """What the consumer needs of a delivered message (aio-pika's AbstractIncomingMessage has it)."""

    @property
    def body(self) -> bytes: ...
    @property
    def type(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def headers(self) -> Mapping[str, Any]: ...
    @property
    def delivery_tag(self) -> int | None: ...
    @property
    def channel(self) -> Any: ...

    async def ack(self, multiple: bool = False) -> None: ...
    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...
    async def reject(self, requeue: bool = False) -> None: ...


class Queue(Protocol):
    async def consume(self, callback: Any, no_ack: bool = False) -> Any: ...


def routing_keys(handlers: Handlers) -> set[str]:
    return {payload.event_type for payload in handlers}


@dataclass
class _Decoded:
    delivery: Delivery
    event: EventEnvelope[Any]
    handler: EventHandler
    span: Span


def _with_correlation(handler: EventHandler, spans: Mapping[Any, Span]) -> EventHandler:
    """Run the handler under the event's correlation id and inside its delivery's span, so the events it
    writes continue the trace."""
    if isinstance(handler, BatchHandler):
        return handler  # a run of events has no one correlation id; kept as is so runs stay recognisable

    async def run(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        with correlation(event.correlation_id), within(spans.get(event.event_id)):
            await handler(event, session)

    return run


class EventConsumer:
    def __init__(
        self,
        name: str,
        handlers: Handlers,
        processed: ProcessedEvents,
        metrics: ServiceMetrics,
        *,
        max_batch: int = 100,
        on_applied: Any = None,
        tracer: otel_trace.Tracer | None = None,
        publishers: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.name = name
        self.tracer = tracer or otel_trace.get_tracer(__name__)
        self._spans: dict[Any, Span] = {}  # event id -> its delivery's span, while its batch is applied
        self.handlers = {payload: _with_correlation(h, self._spans) for payload, h in handlers.items()}
        self.processed = processed
        self.metrics = metrics
        self.max_batch = max_batch
        # called after a transaction that applied events committed (wakes the outbox relay at once)
        self.on_applied = on_applied
        # AMQP user -> producers it speaks for; None: no check
        self.publishers = publishers
        self._buffer: list[Delivery] = []
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    # -- intake -------------------------------------------------------------------------------------------------

    async def start(self, queue: Queue) -> None:
        """Consume `queue` (manual acks). A robust aio-pika queue consumes again after a reconnect; what was
        unacked on the lost channel is redelivered."""
        self._worker = asyncio.create_task(self._run(), name=f"{self.name}-consumer")
        await queue.consume(self.on_delivery, no_ack=False)

    async def on_delivery(self, delivery: Delivery) -> None:
        """aio-pika's callback: only buffer it; the worker decodes and applies."""
        self._buffer.append(delivery)
        self._arrived.set()

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._buffer:
                batch = self._buffer[:self.max_batch]
                del self._buffer[:self.max_batch]
                try:
                    await self.apply_deliveries(batch)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a fault of ours: no delivery may stay unsettled, holding a prefetch slot
                    log.exception("a batch of %d deliveries failed outside its transaction; requeued", len(batch))
                    for delivery in batch:
                        with contextlib.suppress(Exception):  # those already settled refuse a second settlement
                            await delivery.nack(requeue=True)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    # -- one batch ------------------------------------------------------------------------------------------------

    async def apply_deliveries(self, batch: Sequence[Delivery]) -> None:
        """Decode, apply in one transaction, settle each delivery (see the module's docstring)."""
        started = time.perf_counter()
        decoded: list[_Decoded] = []
        for delivery in batch:
            item = await self._decode(delivery)
            if item is not None:
                decoded.append(item)
        if not decoded:
            return
        for item in decoded:
            self._spans.setdefault(item.event.event_id, item.span)
        try:
            outcomes = await self._apply(decoded)
        finally:
            for item in decoded:
                if self._spans.get(item.event.event_id) is item.span:
                    del self._spans[item.event.event_id]
                item.span.end()
        await self._settle(decoded, outcomes, time.perf_counter() - started)

    async def _decode(self, delivery: Delivery) -> _Decoded | None:
        """The event and its handler; None when the delivery was a poison message (then dead-lettered)."""
        try:
            event = decode_event(delivery.body)
            handler = self.handlers.get(type(event.payload))
            if handler is None:
                raise UndecodableEvent(f"{event.event_type} v{event.event_version} is not handled by {self.name}")
            if self.publishers is not None and not publisher_may_publish(delivery.user_id, event.event_type,
                                                                         self.publishers):
                raise UndecodableEvent(f"{event.event_type} published by AMQP user [{delivery.user_id}], "
                                       "who may not publish it")
        except UndecodableEvent as exc:
            log.error("dead-lettering a poison message: %s", exc, extra={"message_id": delivery.message_id})
            self.metrics.events_consumed.labels(_type_of(delivery), "rejected").inc()
            await _settling(delivery.reject(requeue=False))
            return None
        # a consumer span per event, the child of its publisher's (the context travels in the headers)
        span = self.tracer.start_span(
            f"{event.event_type} process", context=context_from(delivery.headers), kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(event.event_id),
                        "messaging.consumer.group.name": self.name})
        return _Decoded(delivery, event, handler, span)

    async def _apply(self, decoded: list[_Decoded]) -> list[bool | BaseException]:
        """For each event: True applied now, False applied before, or the exception it failed with."""
        try:
            flags = await self.processed.apply_batch(self.name, [(d.event, d.handler) for d in decoded])
        except Exception as exc:
            if len(decoded) == 1:
                return [exc]
            log.warning("a batch of %d events failed; applying them one by one", len(decoded), exc_info=True)
            return await self._apply_one_by_one(decoded)
        if self.on_applied is not None and any(flags):
            self.on_applied()
        return list(flags)

    async def _apply_one_by_one(self, decoded: list[_Decoded]) -> list[bool | BaseException]:
        outcomes: list[bool | BaseException] = []
        for item in decoded:
            try:
                ran_now = await self.processed.apply_once(self.name, item.event, item.handler)
            except Exception as exc:  # this event's own failure: it alone is requeued
                outcomes.append(exc)
                continue
            if self.on_applied is not None and ran_now:
                self.on_applied()
            outcomes.append(ran_now)
        return outcomes

    async def _settle(self, decoded: list[_Decoded], outcomes: list[bool | BaseException], seconds: float) -> None:
        """Requeue the failed ones, then ack the rest with one `multiple` ack per channel: every earlier delivery
        on that channel is settled by now (batches are settled in order), so the ack covers exactly this batch's.
        Deliveries of a channel lost meanwhile (a reconnect) are skipped: the broker redelivers them."""
        counts: Counter[tuple[str, str]] = Counter()
        last_on_channel: dict[int, Delivery] = {}
        for item, outcome in zip(decoded, outcomes, strict=True):
            kind = item.event.event_type
            if isinstance(outcome, BaseException):
                log.error("handling %s %s failed; requeued", kind, item.event.event_id, exc_info=outcome)
                counts[kind, "retried"] += 1
                await _settling(item.delivery.nack(requeue=True))
                continue
            counts[kind, "processed" if outcome else "duplicate"] += 1
            if not outcome:
                log.info("%s %s was applied before; acknowledged again", kind, item.event.event_id)
            channel = _channel_of(item.delivery)
            if channel is not None:
                last_on_channel[channel] = item.delivery
        for delivery in last_on_channel.values():
            await _settling(delivery.ack(multiple=True))
        for (event_type, result), n in counts.items():
            self.metrics.events_consumed.labels(event_type, result).inc(n)
            if result != "retried":
                handling = self.metrics.event_handling.labels(event_type)
                for _ in range(n):
                    handling.observe(seconds)


def _channel_of(delivery: Delivery) -> int | None:
    """The identity of the channel the delivery came on; None when that channel is closed."""
    try:
        return id(delivery.channel)
    except ChannelInvalidStateError:
        return None


async def _settling(settlement: Awaitable[None]) -> None:
    """Send an ack, nack or reject; if the channel went away meanwhile, the broker redelivers instead."""
    try:
        await settlement
    except (ChannelInvalidStateError, AMQPError, ConnectionError) as exc:
        log.warning("could not settle a delivery (%s); the broker redelivers it", exc)


def _type_of(delivery: Delivery) -> str:
    # a metric label must stay bounded: only catalogue types, anything else is "unknown"
    kind = delivery.type
    return kind if kind in KNOWN_TYPES else "unknown"
