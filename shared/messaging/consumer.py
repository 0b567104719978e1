"""Consuming events: decode, route to the handler for the type, apply exactly once, then ack.

Acknowledgement is explicit:
  - undecodable or unexpected message  -> reject, no requeue: dead-lettered at once (a poison message)
  - published by a user that may not publish its type (the AMQP user_id, validated by RabbitMQ, against
    the type's producer: shared/messaging/access.py) -> dead-lettered the same way
  - applied, or already applied before -> ack
  - handler or database failed         -> nack with requeue; the quorum queue's delivery limit
                                          dead-letters it after `delivery_limit` attempts

aio-pika runs a callback per delivered message concurrently (up to the prefetch count). Rather than a
transaction each, fighting over the same documents, the callbacks hand their events to one worker that
applies whatever has arrived in one transaction (a micro-batch: no waiting, so an idle service still
applies a lone event at once). If a batch fails, its events are retried one by one, so one bad event
cannot take innocent ones to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from faststream.message import StreamMessage
from faststream.rabbit import RabbitBroker, RabbitMessage
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.events import CATALOGUE, EventEnvelope, EventPayload, UndecodableEvent, decode_event
from shared.messaging.access import publisher_may_publish
from shared.mongo.idempotency import BatchHandler, EventHandler, ProcessedEvents
from shared.observability.logging import correlation
from shared.observability.metrics import ServiceMetrics
from shared.observability.tracing import span, within

log = logging.getLogger(__name__)

KNOWN_TYPES = {event_type for event_type, _ in CATALOGUE}

Handlers = Mapping[type[EventPayload], EventHandler]
_Pending = tuple[EventEnvelope[Any], EventHandler, "asyncio.Future[bool]"]


def routing_keys(handlers: Handlers) -> set[str]:
    return {payload.event_type for payload in handlers}


async def undecoded(message: StreamMessage[Any]) -> bytes:
    """A subscriber's decoder that leaves the body as it came: the consumers decode and validate it themselves
    (FastStream's default JSON decode of every delivery would be thrown away)."""
    return message.body


def delivered_to(consumer: EventConsumer, broker: RabbitBroker) -> Callable[[bytes], Awaitable[None]]:
    """The subscriber's handler: it takes the delivery from FastStream's context instead of having it injected,
    because FastDepends resolves an injected RabbitMessage in a worker thread, a thread hop per delivery."""
    context = broker.context

    async def on_delivery(body: bytes) -> None:
        await consumer.on_message(context.get_local("message"))

    return on_delivery


def _with_correlation(handler: EventHandler, spans: Mapping[Any, Span]) -> EventHandler:
    """Run the handler under the event's correlation id and inside its delivery's span (the worker task
    that applies it is not the delivery's), so the events it writes continue the trace."""
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
        on_applied: Callable[[], None] | None = None,
        tracer: otel_trace.Tracer | None = None,
        publishers: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.name = name
        self.tracer = tracer or otel_trace.get_tracer(__name__)
        self._spans: dict[Any, Span] = {}  # event id -> its delivery's span, while it is being applied
        self.handlers = {payload: _with_correlation(h, self._spans) for payload, h in handlers.items()}
        self.processed = processed
        self.metrics = metrics
        self.max_batch = max_batch
        # called after a transaction that applied events committed (wakes the outbox relay at once)
        self.on_applied = on_applied
        # AMQP user -> producers it speaks for; None: no check (a unit test's in-memory broker)
        self.publishers = publishers
        self._pending: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def on_message(self, message: RabbitMessage) -> None:
        try:
            event = decode_event(message.body)
            handler = self.handlers.get(type(event.payload))
            if handler is None:
                raise UndecodableEvent(f"{event.event_type} v{event.event_version} is not handled by {self.name}")
            if self.publishers is not None:
                publisher = message.raw_message.user_id
                if not publisher_may_publish(publisher, event.event_type, self.publishers):
                    raise UndecodableEvent(f"{event.event_type} published by AMQP user [{publisher}], "
                                           "who may not publish it")
        except UndecodableEvent as exc:
            log.error("dead-lettering a poison message: %s", exc, extra={"message_id": message.message_id})
            self.metrics.events_consumed.labels(_type_of(message), "rejected").inc()
            await message.reject(requeue=False)
            return

        with correlation(event.correlation_id), \
                span(self.tracer, f"{event.event_type} process", SpanKind.CONSUMER, parent=message.headers or {},
                     **{"messaging.system": "rabbitmq", "messaging.message.id": str(event.event_id),
                        "messaging.consumer.group.name": self.name}) as delivery:
            self._spans.setdefault(event.event_id, delivery)
            try:
                await self._handle(message, event, handler)
            finally:
                if self._spans.get(event.event_id) is delivery:
                    del self._spans[event.event_id]

    async def _handle(self, message: RabbitMessage, event: EventEnvelope[Any], handler: EventHandler) -> None:
        started = time.perf_counter()
        applied: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.put_nowait((event, handler, applied))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._apply_pending(), name=f"{self.name}-consumer")
        try:
            ran_now = await applied
        except Exception:
            log.exception("handling %s %s failed; requeued", event.event_type, event.event_id)
            self.metrics.events_consumed.labels(event.event_type, "retried").inc()
            await message.nack(requeue=True)
            return
        self.metrics.event_handling.labels(event.event_type).observe(time.perf_counter() - started)
        self.metrics.events_consumed.labels(event.event_type, "processed" if ran_now else "duplicate").inc()
        if not ran_now:
            log.info("%s %s was applied before; acknowledged again", event.event_type, event.event_id)
        await message.ack()

    async def _apply_pending(self) -> None:
        while not self._pending.empty():
            batch = [self._pending.get_nowait()]
            while len(batch) < self.max_batch and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                flags = await self.processed.apply_batch(self.name, [(e, h) for e, h, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][2], exc=exc)
                else:
                    log.warning("a batch of %d events failed; applying them one by one", len(batch), exc_info=True)
                    await self._apply_one_by_one(batch)
                continue
            if self.on_applied is not None and any(flags):
                self.on_applied()
            for (_, _, applied), flag in zip(batch, flags, strict=True):
                _settle(applied, flag)

    async def _apply_one_by_one(self, batch: list[_Pending]) -> None:
        for event, handler, applied in batch:
            try:
                ran_now = await self.processed.apply_once(self.name, event, handler)
                if self.on_applied is not None and ran_now:
                    self.on_applied()
                _settle(applied, ran_now)
            except Exception as exc:  # this event's own failure: it alone is requeued
                _settle(applied, exc=exc)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker


def _settle(applied: asyncio.Future[bool], flag: bool = False, exc: BaseException | None = None) -> None:
    """Hand the outcome to the waiting delivery, unless it is gone: a broker connection reset cancels the
    deliveries in flight (their futures with them), and setting a cancelled future would kill the worker
    and leave the rest of its batch waiting for ever. The event is redelivered and found applied."""
    if applied.done():
        return
    if exc is not None:
        applied.set_exception(exc)
    else:
        applied.set_result(flag)


def _type_of(message: RabbitMessage) -> str:
    # a metric label must stay bounded: only catalogue types, anything else is "unknown"
    kind = message.raw_message.type
    return kind if kind in KNOWN_TYPES else "unknown"
