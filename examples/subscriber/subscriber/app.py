"""The live subscriber: a FastStream service on its own durable quorum queue, bound to the events it wants.

  <you>.events       quorum queue bound to registry.events with your bindings; a message is redelivered at
                     most DELIVERY_LIMIT times, then dead-lettered (at-least-once) to
  <you>.events.dlx   your dead-letter exchange (direct), routing to
  <you>.events.dlq   where poison messages wait for a person

Each event is decoded with the platform's contract package (`registry_events`), applied once (the store
records its event_id in the same transaction as the effect), then acknowledged. Run: python -m subscriber.app
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faststream import AckPolicy, FastStream
from faststream.rabbit import (
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitMessage,
    RabbitQueue,
)
from registry_events import UndecodableEvent, decode_event

from subscriber.config import Config
from subscriber.store import Store

log = logging.getLogger("subscriber")


async def raw_body(message: RabbitMessage) -> bytes:
    return message.body


def queues(config: Config) -> tuple[RabbitQueue, RabbitQueue, RabbitExchange]:
    dead_letters = RabbitQueue(config.dead_letter_queue, queue_type=QueueType.QUORUM, durable=True)
    # your own: a read-only user may create exchanges and queues under its name only
    dead_letter_exchange = RabbitExchange(config.dead_letter_exchange, type=ExchangeType.DIRECT, durable=True)
    queue = RabbitQueue(
        config.queue, queue_type=QueueType.QUORUM, durable=True,
        arguments={
            "x-delivery-limit": config.delivery_limit,
            "x-dead-letter-exchange": config.dead_letter_exchange,
            "x-dead-letter-routing-key": config.dead_letter_queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    return queue, dead_letters, dead_letter_exchange


def build(config: Config, store: Store) -> tuple[RabbitBroker, FastStream, Callable[[], Awaitable[None]]]:
    broker = RabbitBroker(config.amqp_url)
    queue, dead_letters, dead_letter_exchange = queues(config)
    # the platform owns the exchange; your read-only user may not declare it, only use it
    exchange = RabbitExchange(config.exchange, type=ExchangeType.TOPIC, durable=True, declare=False)

    # decoder: the raw body (not FastStream's JSON parsing), so that a poison message reaches the handler
    @broker.subscriber(queue, ack_policy=AckPolicy.MANUAL, decoder=raw_body)
    async def on_event(message: RabbitMessage) -> None:
        try:
            event = decode_event(message.body)
        except UndecodableEvent as exc:  # poison: never retried, parked for a person
            log.error("dead-lettering %s: %s", message.message_id, exc)
            await message.reject(requeue=False)
            return
        try:
            applied = store.apply(event)
        except Exception:  # your own failure: retried up to the delivery limit, then dead-lettered
            log.exception("applying %s %s failed", event.event_type, event.event_id)
            await message.nack(requeue=True)
            return
        log.info("%s %s %s", "applied" if applied else "duplicate", event.event_type, event.event_id)
        await message.ack()

    app = FastStream(broker)

    @app.after_startup
    async def bind() -> None:
        parked = await broker.declare_queue(dead_letters)
        await parked.bind(await broker.declare_exchange(dead_letter_exchange), routing_key=config.dead_letter_queue)
        declared = await broker.declare_queue(queue)
        events = await broker.declare_exchange(exchange)
        for key in config.bindings:
            await declared.bind(events, routing_key=key)

    return broker, app, bind


if __name__ == "__main__":
    import asyncio

    logging.basicConfig(level=logging.INFO)
    settings = Config()
    asyncio.run(build(settings, Store(settings.database))[1].run())  # the app binds after start-up
