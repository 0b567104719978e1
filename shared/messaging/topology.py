"""Broker topology in one place.

  registry.events       durable topic exchange; routing key = event type (domain.created, command.failed)
  <service>.events      one durable quorum queue per consuming service, bound to the types it handles;
                        x-delivery-limit redeliveries, then dead-lettered (at-least-once dead-lettering)
  registry.events.dlx   durable direct exchange for dead letters, routed by the queue's name
  <service>.events.dlq  durable quorum queue per service where poison messages are parked for an operator
  registry.events.history  a stream bound with `#`: the last N days of events, for new subscribers
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import aio_pika
import aiormq
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

from shared.messaging.access import history_stream_arguments
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topology:
    events_exchange: RabbitExchange
    dead_letter_exchange: RabbitExchange
    queue: RabbitQueue
    dead_letter_queue: RabbitQueue

    @classmethod
    def for_service(cls, settings: ServiceSettings) -> Topology:
        queue_name = settings.queue_name
        dlq_name = f"{queue_name}.dlq"
        return cls(
            events_exchange=RabbitExchange(settings.events_exchange_name, type=ExchangeType.TOPIC, durable=True),
            dead_letter_exchange=RabbitExchange(settings.dead_letter_exchange_name, type=ExchangeType.DIRECT, durable=True),
            queue=RabbitQueue(
                queue_name,
                queue_type=QueueType.QUORUM,
                durable=True,
                arguments={
                    "x-delivery-limit": settings.delivery_limit,
                    "x-dead-letter-exchange": settings.dead_letter_exchange_name,
                    "x-dead-letter-routing-key": dlq_name,
                    # at-least-once dead-lettering needs reject-publish overflow: no message is lost on the way
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            ),
            dead_letter_queue=RabbitQueue(dlq_name, queue_type=QueueType.QUORUM, durable=True),
        )


async def declare_exchanges(broker: RabbitBroker, topology: Topology) -> None:
    await broker.declare_exchange(topology.events_exchange)
    await broker.declare_exchange(topology.dead_letter_exchange)


async def declare_queues(broker: RabbitBroker, topology: Topology, routing_keys: Iterable[str]) -> None:
    """The service's queue, its dead-letter queue and the bindings for the event types it handles."""
    events = await broker.declare_exchange(topology.events_exchange)
    dlx = await broker.declare_exchange(topology.dead_letter_exchange)
    dlq = await broker.declare_queue(topology.dead_letter_queue)
    await dlq.bind(dlx, routing_key=topology.dead_letter_queue.name)
    queue = await broker.declare_queue(topology.queue)
    for key in sorted(set(routing_keys)):
        await queue.bind(events, routing_key=key)


async def declare_history_stream(amqp_url: str, exchange: str, stream: str, days: int) -> bool:
    """The stream `registry.events.history` bound to the events exchange with `#`: every event, kept `days`
    days (x-max-age), for new subscribers to read from an offset or a timestamp (x-stream-offset).

    Declared on a connection of its own: a stream that exists with another retention refuses the declaration
    and closes the channel, which must not be the service's. Returns False then (change the retention of an
    existing stream with a policy: `rabbitmqctl set_policy ... '{"max-age": "14D"}' --apply-to queues`)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        events = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        try:
            queue = await channel.declare_queue(stream, durable=True, arguments=dict(history_stream_arguments(days)))
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            log.warning("the history stream %s exists with other arguments (%s); kept as it is", stream, exc)
            return False
        await queue.bind(events, routing_key="#")
        return True
