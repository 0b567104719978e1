"""Publishing events: persistent, with publisher confirms, the event id as AMQP message id, and the AMQP
`user_id` property set to the connection's user (RabbitMQ refuses a message whose user_id is not the
connection's, so consumers can trust it to say who published: shared/messaging/access.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitExchange

from shared.events import EventEnvelope
from shared.observability.tracing import current_carrier


class EventPublisher:
    def __init__(self, broker: RabbitBroker, exchange: RabbitExchange, *, confirm_timeout: float = 10.0,
                 user_id: str | None = None) -> None:
        self.broker = broker
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self.user_id = user_id

    async def publish(self, event: EventEnvelope[Any]) -> None:
        """Publish directly (no outbox): for events that describe no state change of the publisher's own."""
        await self.publish_raw(
            event.to_json(),
            event_id=str(event.event_id),
            event_type=event.event_type,
            event_version=event.event_version,
            correlation_id=event.correlation_id,
            occurred_at=event.occurred_at,
        )

    async def publish_raw(
        self,
        body: bytes,
        *,
        event_id: str,
        event_type: str,
        event_version: int,
        correlation_id: str,
        occurred_at: datetime,
    ) -> None:
        # returns once the broker confirmed (the default channel has publisher confirms on); raises otherwise
        await self.broker.publish(
            body,
            exchange=self.exchange,
            routing_key=event_type,
            persist=True,
            mandatory=False,  # an event nobody subscribes to yet is not an error
            message_id=event_id,
            correlation_id=correlation_id,
            message_type=event_type,
            content_type="application/json",
            timestamp=occurred_at,
            # the trace context of the publishing span (W3C traceparent), for the consumer's span
            headers={"event-version": event_version, **current_carrier()},
            timeout=self.confirm_timeout,
            user_id=self.user_id,
        )
