"""Consuming events: decode, route to the handler for the type, apply exactly once, then ack.

Acknowledgement is explicit:
  - undecodable or unexpected message  -> reject, no requeue: dead-lettered at once (a poison message)
  - applied, or already applied before -> ack
  - handler or database failed         -> nack with requeue; the quorum queue's delivery limit
                                          dead-letters it after `delivery_limit` attempts
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from faststream.rabbit import RabbitMessage

from shared.events import CATALOGUE, EventPayload, UndecodableEvent, decode_event
from shared.mongo.idempotency import EventHandler, ProcessedEvents
from shared.observability.logging import correlation
from shared.observability.metrics import ServiceMetrics

log = logging.getLogger(__name__)

KNOWN_TYPES = {event_type for event_type, _ in CATALOGUE}

Handlers = Mapping[type[EventPayload], EventHandler]


def routing_keys(handlers: Handlers) -> set[str]:
    return {payload.event_type for payload in handlers}


class EventConsumer:
    def __init__(self, name: str, handlers: Handlers, processed: ProcessedEvents, metrics: ServiceMetrics) -> None:
        self.name = name
        self.handlers = dict(handlers)
        self.processed = processed
        self.metrics = metrics

    async def on_message(self, message: RabbitMessage) -> None:
        try:
            event = decode_event(message.body)
            handler = self.handlers.get(type(event.payload))
            if handler is None:
                raise UndecodableEvent(f"{event.event_type} v{event.event_version} is not handled by {self.name}")
        except UndecodableEvent as exc:
            log.error("dead-lettering a poison message: %s", exc, extra={"message_id": message.message_id})
            self.metrics.events_consumed.labels(_type_of(message), "rejected").inc()
            await message.reject(requeue=False)
            return

        with correlation(event.correlation_id):
            started = time.perf_counter()
            try:
                applied = await self.processed.apply_once(self.name, event, handler)
            except Exception:
                log.exception("handling %s %s failed; requeued", event.event_type, event.event_id)
                self.metrics.events_consumed.labels(event.event_type, "retried").inc()
                await message.nack(requeue=True)
                return
            self.metrics.event_handling.labels(event.event_type).observe(time.perf_counter() - started)
            self.metrics.events_consumed.labels(event.event_type, "processed" if applied else "duplicate").inc()
            if not applied:
                log.info("%s %s was applied before; acknowledged again", event.event_type, event.event_id)
            await message.ack()


def _type_of(message: RabbitMessage) -> str:
    # a metric label must stay bounded: only catalogue types, anything else is "unknown"
    kind = message.raw_message.type
    return kind if kind in KNOWN_TYPES else "unknown"
