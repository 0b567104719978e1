"""The broker topology, and the batch consumer's decisions between ack, requeue and dead-letter (no broker needed)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.messaging.consumer import EventConsumer
from shared.messaging.topology import Topology
from shared.observability.metrics import ServiceMetrics
from shared.settings import ServiceSettings


def test_topology_quorum_queue_with_delivery_limit_and_dead_letter_queue() -> None:
    t = Topology.for_service(ServiceSettings(service_name="reporting", namespace="ns1", delivery_limit=3))
    assert t.events_exchange.name == "ns1.registry.events" and t.events_exchange.durable
    assert t.queue.name == "ns1.reporting.events" and t.queue.durable
    args = t.queue.arguments
    assert args["x-queue-type"] == "quorum"
    assert args["x-delivery-limit"] == 3
    assert args["x-dead-letter-exchange"] == t.dead_letter_exchange.name == "ns1.registry.events.dlx"
    assert args["x-dead-letter-routing-key"] == t.dead_letter_queue.name == "ns1.reporting.events.dlq"
    assert args["x-dead-letter-strategy"] == "at-least-once" and args["x-overflow"] == "reject-publish"


def test_without_namespace_the_names_are_the_documented_ones() -> None:
    s = ServiceSettings(service_name="hitpoints")
    assert (s.queue_name, s.events_exchange_name, s.database_name) == ("hitpoints.events", "registry.events", "hitpoints")


@dataclass
class FakeDelivery:
    """A delivered message as aio-pika gives it to the consumer; its acknowledgement is recorded in `channel`."""

    body: bytes
    delivery_tag: int
    channel: list[str]  # the settlements sent on this delivery's channel, in order
    type: str | None = "domain.created"
    user_id: str | None = None
    message_id: str = "m1"
    headers: dict[str, str] = field(default_factory=dict)

    async def ack(self, multiple: bool = False) -> None:
        self.channel.append(f"ack {self.delivery_tag}" + (" multiple" if multiple else ""))

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        self.channel.append(f"nack {self.delivery_tag} requeue={requeue}")

    async def reject(self, requeue: bool = False) -> None:
        self.channel.append(f"reject {self.delivery_tag} requeue={requeue}")


def deliveries(bodies: list[bytes], channel: list[str] | None = None, first: int = 1) -> list[FakeDelivery]:
    channel = [] if channel is None else channel
    return [FakeDelivery(body, first + i, channel) for i, body in enumerate(bodies)]


class FakeProcessed:
    """Stands in for ProcessedEvents (a MongoDB transaction; covered by the integration tests): a batch applies
    all or nothing."""

    def __init__(self, applied_before: set[str] | None = None, fail: bool = False) -> None:
        self.applied = applied_before or set()
        self.fail = fail
        self.batches: list[int] = []

    async def apply_batch(self, consumer: str, items: Any) -> list[bool]:
        self.batches.append(len(items))
        if self.fail:
            raise ConnectionError("database went away")
        applied, flags = set(self.applied), []
        for event, handler in items:
            flags.append(str(event.event_id) not in applied)
            if flags[-1]:
                await handler(event, None)
                applied.add(str(event.event_id))
        self.applied = applied  # the "commit"
        return flags

    async def apply_once(self, consumer: str, event: Any, handler: Any) -> bool:
        if self.fail:
            raise ConnectionError("database went away")
        if str(event.event_id) in self.applied:
            return False
        await handler(event, None)
        self.applied.add(str(event.event_id))
        return True


def event_body() -> tuple[str, bytes]:
    e = new_event(
        DomainCreated(name="x1.be", tld="be", registered_at=datetime.now(UTC)), registrar_id="a", correlation_id=None,
        clock=SystemClock(),
    )
    return str(e.event_id), e.to_json()


async def _noop(event: Any, session: Any) -> None:
    pass


def consumer_of(processed: Any, handlers: Any = None, **options: Any) -> EventConsumer:
    return EventConsumer("t", {DomainCreated: _noop} if handlers is None else handlers, processed,
                         ServiceMetrics("t"), **options)


async def test_a_batch_is_applied_in_one_transaction_and_acked_with_one_multiple_ack() -> None:
    seen: list[str] = []

    async def handler(event: Any, session: Any) -> None:
        seen.append(str(event.event_id))

    bodies = [event_body() for _ in range(4)]
    processed = FakeProcessed()
    batch = deliveries([body for _, body in bodies], first=7)
    await consumer_of(processed, {DomainCreated: handler}).apply_deliveries(batch)
    assert processed.batches == [4] and seen == [event_id for event_id, _ in bodies]  # in delivery order
    assert batch[0].channel == ["ack 10 multiple"]


async def test_duplicates_are_acked_without_effect() -> None:
    seen: list[str] = []

    async def handler(event: Any, session: Any) -> None:
        seen.append(event.payload.name)

    _, body = event_body()
    consumer = consumer_of(FakeProcessed(), {DomainCreated: handler})
    first, again = deliveries([body, body])  # the same event twice in one batch, then redelivered
    await consumer.apply_deliveries([first, again])
    await consumer.apply_deliveries(deliveries([body], first.channel, first=3))
    assert seen == ["x1.be"] and first.channel == ["ack 2 multiple", "ack 3 multiple"]


async def test_a_poison_message_in_a_batch_is_dead_lettered_alone() -> None:
    """Undecodable, of a type the service does not handle, or from a user that may not publish it: rejected
    without requeue (dead-lettered at once) before the others are acked; the others are applied together."""
    from shared.events.contacts import ContactDeleted  # a type this consumer does not handle

    good = [event_body()[1] for _ in range(3)]
    unhandled = new_event(ContactDeleted(alias="c1", type="TECH"), registrar_id="a", correlation_id=None,
                          clock=SystemClock()).to_json()
    processed = FakeProcessed()
    batch = deliveries([good[0], b"{nonsense", good[1], unhandled, good[2]])
    await consumer_of(processed).apply_deliveries(batch)
    assert batch[0].channel == ["reject 2 requeue=False", "reject 4 requeue=False", "ack 5 multiple"]
    assert processed.batches == [3] and len(processed.applied) == 3


async def test_an_event_from_a_user_that_may_not_publish_it_is_dead_lettered() -> None:
    processed = FakeProcessed()
    allowed, stranger = deliveries([event_body()[1], event_body()[1]])
    allowed.user_id, stranger.user_id = "registry", "hitpoints"
    await consumer_of(processed, publishers={"registry": ["registry"], "hitpoints": ["hitpoints"]}) \
        .apply_deliveries([allowed, stranger])
    assert allowed.channel == ["reject 2 requeue=False", "ack 1 multiple"] and processed.batches == [1]


async def test_a_failing_unit_of_work_is_requeued_and_nothing_acked() -> None:
    batch = deliveries([event_body()[1], event_body()[1]])
    await consumer_of(FakeProcessed(fail=True)).apply_deliveries(batch)
    assert batch[0].channel == ["nack 1 requeue=True", "nack 2 requeue=True"]


class PoisonInBatch(FakeProcessed):
    """A batch fails as a whole when it holds the bad event; alone, every other event applies."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad

    async def apply_batch(self, consumer: str, items: Any) -> list[bool]:
        if any(str(e.event_id) == self.bad for e, _ in items):
            self.batches.append(len(items))
            raise RuntimeError("one bad event")
        return await super().apply_batch(consumer, items)

    async def apply_once(self, consumer: str, event: Any, handler: Any) -> bool:
        if str(event.event_id) == self.bad:
            raise RuntimeError("one bad event")
        return await super().apply_once(consumer, event, handler)


async def test_one_failing_event_in_a_batch_is_requeued_alone_and_the_others_acked() -> None:
    bodies = [event_body() for _ in range(5)]
    processed = PoisonInBatch(bad=bodies[2][0])
    batch = deliveries([body for _, body in bodies])
    await consumer_of(processed).apply_deliveries(batch)
    assert processed.batches == [5]  # they were applied together first
    assert batch[0].channel == ["nack 3 requeue=True", "ack 5 multiple"]  # then one by one: 1, 2, 4, 5 applied
    assert processed.applied == {event_id for i, (event_id, _) in enumerate(bodies) if i != 2}


async def test_deliveries_of_two_channels_are_acked_on_each() -> None:
    """After a reconnect, a batch may hold deliveries of the lost channel and of the new one: each channel gets
    its own `multiple` ack (their tags are counted per channel)."""
    old, new = deliveries([event_body()[1] for _ in range(2)], first=41), deliveries([event_body()[1]], first=1)
    await consumer_of(FakeProcessed()).apply_deliveries([old[0], new[0], old[1]])
    assert (old[0].channel, new[0].channel) == (["ack 42 multiple"], ["ack 1 multiple"])


async def test_the_worker_takes_what_has_arrived_up_to_the_batch_size() -> None:
    import asyncio

    processed = FakeProcessed()
    consumer = consumer_of(processed, max_batch=3)

    class Queue:
        async def consume(self, callback: Any, no_ack: bool = False) -> None:
            assert not no_ack
            for delivery in deliveries([event_body()[1] for _ in range(7)]):
                await callback(delivery)

    await consumer.start(Queue())
    for _ in range(20):
        await asyncio.sleep(0)
    await consumer.close()
    assert processed.batches == [3, 3, 1] and len(processed.applied) == 7


def test_a_publisher_may_publish_only_its_producers_event_types() -> None:
    from shared.messaging.access import DEFAULT_PUBLISHERS, event_types_of, publisher_may_publish

    assert publisher_may_publish("hitpoints", "registrar.blocked", DEFAULT_PUBLISHERS)
    assert not publisher_may_publish("hitpoints", "domain.created", DEFAULT_PUBLISHERS)
    assert publisher_may_publish("feeds", "feed.domain_revoked", DEFAULT_PUBLISHERS)
    assert not publisher_may_publish("feeds", "session.revoked", DEFAULT_PUBLISHERS)
    assert not publisher_may_publish(None, "domain.created", DEFAULT_PUBLISHERS)  # no user_id: refused
    assert not publisher_may_publish("stranger", "domain.created", DEFAULT_PUBLISHERS)
    assert publisher_may_publish("guest", "domain.created", {"guest": ["*"]})
    assert "session.revoked" in event_types_of("registry") and "domain.created" not in event_types_of("hitpoints")


async def test_a_fault_outside_the_transaction_requeues_the_batch_instead_of_holding_it() -> None:
    import asyncio

    class Broken(FakeProcessed):
        async def apply_batch(self, consumer: str, items: Any) -> list[bool]:
            return []  # a wrong answer: settling it fails (zip strict)

    consumer = consumer_of(Broken())
    batch = deliveries([event_body()[1], event_body()[1]])

    class Queue:
        async def consume(self, callback: Any, no_ack: bool = False) -> None:
            for delivery in batch:
                await callback(delivery)

    await consumer.start(Queue())
    for _ in range(20):
        await asyncio.sleep(0)
    await consumer.close()
    assert batch[0].channel == ["nack 1 requeue=True", "nack 2 requeue=True"]
