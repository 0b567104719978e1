"""The broker topology, and the consumer's decision between ack, requeue and dead-letter (no broker needed)."""

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
class FakeRaw:
    type: str | None


@dataclass
class FakeMessage:
    body: bytes
    raw_message: FakeRaw = field(default_factory=lambda: FakeRaw("domain.created"))
    message_id: str = "m1"
    headers: dict[str, str] = field(default_factory=dict)
    outcome: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nack(self, requeue: bool = True) -> None:
        self.outcome.append(f"nack requeue={requeue}")

    async def reject(self, requeue: bool = False) -> None:
        self.outcome.append(f"reject requeue={requeue}")


class FakeProcessed:
    """Stands in for ProcessedEvents (a MongoDB transaction; covered by the integration tests)."""

    def __init__(self, applied_before: set[str] | None = None, fail: bool = False) -> None:
        self.applied = applied_before or set()
        self.fail = fail

    async def apply_batch(self, consumer: str, items: Any) -> list[bool]:
        return [await self.apply_once(consumer, e, h) for e, h in items]

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


async def test_applied_events_are_acked_and_duplicates_acked_without_effect() -> None:
    seen: list[str] = []

    async def handler(event: Any, session: Any) -> None:
        seen.append(event.payload.name)

    event_id, body = event_body()
    consumer = EventConsumer("t", {DomainCreated: handler}, FakeProcessed(), ServiceMetrics("t"))  # type: ignore[arg-type]
    first, second = FakeMessage(body), FakeMessage(body)
    await consumer.on_message(first)  # type: ignore[arg-type]
    await consumer.on_message(second)  # type: ignore[arg-type]
    assert (first.outcome, second.outcome, seen) == (["ack"], ["ack"], ["x1.be"])


async def test_poison_and_unhandled_types_are_rejected_without_requeue() -> None:
    consumer = EventConsumer("t", {}, FakeProcessed(), ServiceMetrics("t"))  # type: ignore[arg-type]
    for body in (b"{nonsense", event_body()[1]):  # the second is valid but not handled here
        message = FakeMessage(body)
        await consumer.on_message(message)  # type: ignore[arg-type]
        assert message.outcome == ["reject requeue=False"]


async def test_a_failing_unit_of_work_is_requeued() -> None:
    consumer = EventConsumer("t", {DomainCreated: _noop}, FakeProcessed(fail=True), ServiceMetrics("t"))  # type: ignore[arg-type]
    message = FakeMessage(event_body()[1])
    await consumer.on_message(message)  # type: ignore[arg-type]
    assert message.outcome == ["nack requeue=True"]


class PoisonInBatch(FakeProcessed):
    """A batch fails as a whole when it holds the bad event; alone, every other event applies."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad
        self.batches: list[int] = []

    async def apply_batch(self, consumer: str, items: Any) -> list[bool]:
        self.batches.append(len(items))
        if any(str(e.event_id) == self.bad for e, _ in items):
            raise RuntimeError("one bad event")
        return await super().apply_batch(consumer, items)

    async def apply_once(self, consumer: str, event: Any, handler: Any) -> bool:
        if str(event.event_id) == self.bad:
            raise RuntimeError("one bad event")
        return await super().apply_once(consumer, event, handler)


async def test_one_bad_event_in_a_batch_does_not_requeue_the_others() -> None:
    import asyncio

    bodies = [event_body() for _ in range(5)]
    processed = PoisonInBatch(bad=bodies[2][0])
    consumer = EventConsumer("t", {DomainCreated: _noop}, processed, ServiceMetrics("t"))  # type: ignore[arg-type]
    messages = [FakeMessage(body) for _, body in bodies]
    await asyncio.gather(*(consumer.on_message(m) for m in messages))  # type: ignore[arg-type]
    assert [m.outcome for m in messages] == [["ack"], ["ack"], ["nack requeue=True"], ["ack"], ["ack"]]
    assert processed.batches[0] == 5  # they were applied together first
    await consumer.close()


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
