"""Events published in batches, each batch in one write (shared/messaging/confirmed.py), against the real broker:
the messages keep the properties consumers rely on and their order, every message gets its own confirm (a nack
fails that one alone, also for the relay, which keeps it), a batch shares the channel with single publishes, and a
channel the broker closes fails the batch at once instead of after the confirm timeout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.exceptions import DeliveryError
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.messaging.publisher import EventPublisher, OutgoingEvent
from shared.mongo.outbox import NotConfirmed, Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.observability.metrics import ServiceMetrics
from tests.integration.infra import AMQP_URL, AMQP_USER, MONGODB_URL

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def outgoing(i: int, **trace: str) -> OutgoingEvent:
    return OutgoingEvent(f'{{"n": {i}}}'.encode(), event_id=f"event-{i}", event_type="domain.created",
                         event_version=1, correlation_id=f"cause-{i}",
                         occurred_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), trace=trace)


@pytest.fixture
async def broker() -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker(AMQP_URL, app_id="batch-test", fail_fast=True)
    await broker.connect()
    yield broker
    await broker.stop()


async def exchange_with_queue(broker: RabbitBroker,
                              **arguments: Any) -> tuple[RabbitExchange, aio_pika.abc.AbstractQueue]:
    """An exchange and a queue bound to it with `#`, both gone when the test's connection closes."""
    exchange = RabbitExchange(f"batch-test-{uuid.uuid4().hex[:10]}", type=ExchangeType.TOPIC, auto_delete=True)
    await broker.declare_exchange(exchange)
    channel = await broker.config.channel_manager.get_channel()
    queue = await channel.declare_queue(exclusive=True, arguments=arguments or None)
    await queue.bind(exchange.name, "#")
    return exchange, queue


async def received(queue: aio_pika.abc.AbstractQueue, n: int) -> list[aio_pika.abc.AbstractIncomingMessage]:
    messages: list[aio_pika.abc.AbstractIncomingMessage] = []
    deadline = time.monotonic() + 10
    while len(messages) < n and time.monotonic() < deadline:
        message = await queue.get(fail=False, no_ack=True)
        if message is None:
            await asyncio.sleep(0.02)
        else:
            messages.append(message)
    return messages


async def test_a_batch_goes_out_in_order_with_the_properties_consumers_rely_on(broker: RabbitBroker) -> None:
    exchange, queue = await exchange_with_queue(broker)
    publisher = EventPublisher(broker, exchange, user_id=AMQP_USER, app_id="registry")
    batch = [outgoing(i, traceparent=TRACEPARENT) for i in range(5)]
    assert await publisher.publish_batch(batch) == [None] * 5
    messages = await received(queue, 5)
    assert [m.message_id for m in messages] == [f"event-{i}" for i in range(5)]
    first = messages[0]
    assert first.body == b'{"n": 0}' and first.routing_key == "domain.created"
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT and first.content_type == "application/json"
    assert first.correlation_id == "cause-0" and first.type == "domain.created"
    assert first.user_id == AMQP_USER and first.app_id == "registry"
    assert first.timestamp == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert first.headers == {"event-version": 1, "traceparent": TRACEPARENT}


async def test_a_batch_shares_its_channel_with_single_publishes_each_confirmed_once(broker: RabbitBroker) -> None:
    """Delivery tags are the channel's: a batch written between single publishes (FastStream's, on the same
    default channel) takes the next ones in order, so every confirm goes to its own message."""
    exchange, queue = await exchange_with_queue(broker)
    publisher = EventPublisher(broker, exchange, user_id=AMQP_USER)

    async def single(i: int) -> None:
        await broker.publish(b"single", exchange=exchange, routing_key="single", persist=True, mandatory=False,
                             message_id=f"single-{i}")

    batches = [publisher.publish_batch([outgoing(b * 100 + i) for i in range(50)]) for b in range(3)]
    outcomes = await asyncio.gather(*batches, *(single(i) for i in range(40)))
    assert outcomes[:3] == [[None] * 50] * 3
    assert len(await received(queue, 190)) == 190


async def test_messages_the_broker_refuses_fail_alone_and_the_relay_keeps_them(broker: RabbitBroker,
                                                                               namespace: str) -> None:
    """A queue that is full refuses what comes in (reject-publish: the broker nacks it); the relay deletes the
    confirmed events of the batch and keeps the refused ones, which go out on the next round."""
    exchange, queue = await exchange_with_queue(broker, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    publisher = EventPublisher(broker, exchange, user_id=AMQP_USER)
    outcomes = await publisher.publish_batch([outgoing(i) for i in range(4)])
    assert outcomes[:2] == [None, None] and all(isinstance(o, DeliveryError) for o in outcomes[2:])
    await queue.purge()

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    try:
        db = client[f"{namespace}_publisher"]
        events = [new_event(DomainCreated(name=f"full-{i}.be", tld="be", registered_at=datetime.now(UTC)),
                            registrar_id="a100001", correlation_id=None, clock=SystemClock()) for i in range(4)]

        async def write(session: AsyncClientSession) -> None:
            await Outbox(db).add(events, session)

        await in_transaction(client, write)
        metrics = ServiceMetrics("batch-nack-test")
        relay = OutboxRelay(db, publisher, metrics, owner="test")
        with pytest.raises(NotConfirmed, match="2 of 4 events not confirmed"):
            await relay.relay_once()
        left = [d["event_id"] for d in await db["outbox"].find({}).sort("_id", 1).to_list()]
        assert left == [str(e.event_id) for e in events[2:]]
        assert metrics.outbox_relayed.labels("domain.created")._value.get() == 2
        await queue.purge()
        assert await relay.relay_once() == 2 and await db["outbox"].count_documents({}) == 0
    finally:
        await client.close()


async def test_a_channel_the_broker_closes_fails_the_batch_at_once_and_the_next_goes_out(
        broker: RabbitBroker) -> None:
    exchange, queue = await exchange_with_queue(broker)
    missing = EventPublisher(broker, RabbitExchange(f"batch-test-missing-{uuid.uuid4().hex[:10]}"),
                             user_id=AMQP_USER, confirm_timeout=30)
    started = time.monotonic()
    outcomes = await missing.publish_batch([outgoing(i) for i in range(3)])
    # the broker closes the channel (no such exchange): every confirm fails with it, long before the timeout
    assert len(outcomes) == 3 and all(o is not None for o in outcomes) and time.monotonic() - started < 10
    publisher = EventPublisher(broker, exchange, user_id=AMQP_USER)

    async def publish_again() -> list[BaseException | None]:
        while True:  # the robust channel is reopened in the background
            try:
                return await publisher.publish_batch([outgoing(7)])
            except Exception:
                await asyncio.sleep(0.05)

    assert await asyncio.wait_for(publish_again(), 10) == [None]
    assert [m.message_id for m in await received(queue, 1)] == ["event-7"]
