"""Publishing events: persistent, with publisher confirms, the event id as AMQP message id, and the AMQP
`user_id` property set to the connection's user (RabbitMQ refuses a message whose user_id is not the
connection's, so consumers can trust it to say who published: shared/messaging/access.py).

Events go out in batches on the broker's default channel, each batch in one write (shared/messaging/confirmed.py),
not through FastStream's publish: its per-message path (middlewares, message building, aio-pika's publish) cost
the outbox relay more CPU than everything else it does. The AMQP properties are the ones FastStream set: content
type application/json, persistent, message id, correlation id, type (the event type), timestamp, user id, app id
(the service) and the headers `event-version` and the W3C trace context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitExchange

from shared.events import EventEnvelope
from shared.messaging.confirmed import Outgoing, properties, publish_confirmed
from shared.observability.tracing import current_carrier

PERSISTENT = 2


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """An event as published: its JSON body and what goes into the message's properties."""

    body: bytes
    event_id: str
    event_type: str
    event_version: int
    correlation_id: str
    occurred_at: datetime
    # the W3C trace context (traceparent, tracestate) the consumer's span continues
    trace: Mapping[str, str] = field(default_factory=dict)


class EventPublisher:
    def __init__(self, broker: RabbitBroker, exchange: RabbitExchange, *, confirm_timeout: float = 10.0,
                 user_id: str | None = None, app_id: str | None = None) -> None:
        self.broker = broker
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self.user_id = user_id
        self.app_id = app_id

    async def publish(self, event: EventEnvelope[Any]) -> None:
        """Publish directly (no outbox): for events that describe no state change of the publisher's own.
        Returns once the broker confirmed; raises otherwise."""
        (failure,) = await self.publish_batch([OutgoingEvent(
            event.to_json(),
            event_id=str(event.event_id),
            event_type=event.event_type,
            event_version=event.event_version,
            correlation_id=event.correlation_id,
            occurred_at=event.occurred_at,
            trace=current_carrier(),
        )])
        if failure is not None:
            raise failure

    async def publish_batch(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        """Publish the events in order in one write and wait for the broker's confirms: for each, None (confirmed)
        or what it failed with (a nack, the channel closing, no confirm within confirm_timeout). Raises, with
        nothing sent, when the channel cannot take them (the broker away)."""
        if not events:
            return []
        robust = await self.broker.config.channel_manager.get_channel()  # FastStream's default channel
        channel = await robust.get_underlay_channel()  # waits while a lost connection is being re-established
        futures = await publish_confirmed(channel, self.exchange.name, [self._message(e) for e in events])
        try:
            _, waiting = await asyncio.wait(futures, timeout=self.confirm_timeout)
        finally:
            for future in futures:
                future.cancel()  # a no-op on those that are done
        late = TimeoutError(f"not confirmed within {self.confirm_timeout:.0f} s") if waiting else None
        return [late if future in waiting else _failure(future) for future in futures]

    def _message(self, event: OutgoingEvent) -> Outgoing:
        return Outgoing(event.event_type, event.body, properties(
            content_type="application/json",
            delivery_mode=PERSISTENT,
            headers={"event-version": event.event_version, **event.trace},
            correlation_id=event.correlation_id,
            message_id=event.event_id,
            timestamp=event.occurred_at,
            message_type=event.event_type,
            user_id=self.user_id,
            app_id=self.app_id,
        ))


def _failure(confirmation: asyncio.Future[Any]) -> BaseException | None:
    """None for an ack; the nack's DeliveryError, or what closed the channel, otherwise."""
    if confirmation.cancelled():
        return ConnectionError("the confirmation was abandoned (the channel closed)")
    return confirmation.exception()
