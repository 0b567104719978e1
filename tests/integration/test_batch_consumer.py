"""The batch consumer (shared/messaging/consumer.py) on the real broker and database: events waiting in a
service's queue are applied several to a transaction; a poison message among them is dead-lettered alone; a
service stopped in the middle of a batch's transaction applies that batch after restart, none of it twice."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.clock import SystemClock
from shared.events import DomainCreated, EventEnvelope, new_event
from shared.mongo.idempotency import BatchHandler
from shared.runtime import ServiceContext, ServiceSpec, create_app
from shared.settings import ServiceSettings
from tests.integration.infra import AMQP_URL, AMQP_USER, eventually, queue_depth, running


def created(i: int) -> EventEnvelope[DomainCreated]:
    return new_event(DomainCreated(name=f"batch-{i}.be", tld="be", registered_at=datetime.now(UTC)),
                     registrar_id="a100001", correlation_id=None, clock=SystemClock())


async def publish(namespace: str, bodies: Sequence[bytes]) -> None:
    """Straight onto the events exchange, as the relay would (persistent, confirmed, our AMQP user)."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        for body in bodies:
            await exchange.publish(aio_pika.Message(body, type="domain.created", user_id=AMQP_USER,
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key="domain.created")


async def consumers_of(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return int(declared.declaration_result.consumer_count or 0)


class Counting:
    """A batch handler that counts each event's applications in the service's database (a $inc: applied twice
    shows as 2) and the sizes of the runs it was given; `hold` makes it stop inside the transaction."""

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.runs: list[int] = []
        self.hold = hold
        self.holding = asyncio.Event()

    def handlers(self, ctx: ServiceContext) -> dict[type, BatchHandler]:
        async def apply(events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
            self.runs.append(len(events))
            for event in events:
                await ctx.db["applied"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True,
                                                   session=session)
            if self.hold is not None and len(events) > 1:
                self.holding.set()
                await self.hold.wait()  # the "crash" comes while the batch's writes are uncommitted

        return {DomainCreated: BatchHandler(apply)}


def service(namespace: str, counting: Counting) -> Any:
    settings = ServiceSettings(service_name="batches", namespace=namespace, prefetch_count=50, consume_batch_size=20)
    return create_app(ServiceSpec(name="batches", settings=settings, description="test", handlers=counting.handlers))


async def applied_counts(ctx: ServiceContext) -> dict[str, int]:
    return {d["_id"]: d["n"] for d in await ctx.db["applied"].find({}).to_list()}


async def recorded(collection: Any) -> list[str]:
    """The event ids recorded in a ledger's collection (a record per batch, its events' ids in event_ids)."""
    return [i for d in await collection.find({}).to_list() for i in d["event_ids"]]


async def test_a_poison_message_among_waiting_events_is_dead_lettered_alone(namespace: str) -> None:
    async with running(service(namespace, Counting())):
        pass  # declares the queue; nothing consumes it now
    events = [created(i) for i in range(30)]
    bodies = [e.to_json() for e in events]
    await publish(namespace, [*bodies[:10], b"{not an event", *bodies[10:]])
    counting = Counting()
    app = service(namespace, counting)
    async with running(app) as http:
        ctx: ServiceContext = app.state.ctx
        await eventually(lambda: applied_counts(ctx), lambda c: len(c) == 30)
        # one consumer on the queue (the batch consumer), and the subscription still in the AsyncAPI document
        assert await consumers_of(f"{namespace}.batches.events") == 1
        assert f"{namespace}.batches.events:consume" in (await http.get("/asyncapi.json")).json()["channels"]
        await eventually(lambda: queue_depth(f"{namespace}.batches.events.dlq"), lambda n: n == 1)
        assert set((await applied_counts(ctx)).values()) == {1}
        assert await queue_depth(f"{namespace}.batches.events") == 0
        assert sum(counting.runs) == 30 and max(counting.runs) > 1  # several events to a transaction
        assert max(counting.runs) <= 20  # CONSUME_BATCH_SIZE
        assert len(set(await recorded(ctx.db["processed_events"]))) == 30
        assert await ctx.db["processed_events"].count_documents({}) < 30  # a record per batch


async def test_a_service_stopped_inside_a_batch_applies_it_after_restart_and_none_twice(namespace: str) -> None:
    async with running(service(namespace, Counting())):
        pass
    events = [created(i) for i in range(40)]
    await publish(namespace, [e.to_json() for e in events])
    stuck = Counting(hold=asyncio.Event())  # never set: the service stops while a batch is being applied
    app = service(namespace, stuck)
    async with running(app):
        ctx: ServiceContext = app.state.ctx
        await asyncio.wait_for(stuck.holding.wait(), 20)
        first_run = stuck.runs[-1]
        assert first_run > 1
        before_stop = await applied_counts(ctx)
    # the open batch's writes were never committed, and its deliveries never acked
    counting = Counting()
    app = service(namespace, counting)
    async with running(app):
        ctx = app.state.ctx
        counts = await eventually(lambda: applied_counts(ctx), lambda c: len(c) == 40)
        assert set(counts.values()) == {1}, "no event applied twice"
        assert sum(before_stop.values()) <= 40 - first_run  # only batches committed before the stop
        assert len(set(await recorded(ctx.db["processed_events"]))) == 40
        await eventually(lambda: queue_depth(f"{namespace}.batches.events"), lambda n: n == 0)
        assert await queue_depth(f"{namespace}.batches.events.dlq") == 0


async def test_a_batch_mixing_new_and_applied_events_applies_only_the_new_ones_once(namespace: str) -> None:
    """ProcessedEvents inserts a batch's records without reading first; a record that exists (a redelivery) makes
    that transaction give up with nothing written, and a second one applies only the new events."""
    from datetime import timedelta

    from pymongo import AsyncMongoClient

    from shared.mongo.idempotency import ProcessedEvents
    from tests.integration.infra import MONGODB_URL

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_processed"]
    processed = ProcessedEvents(client, db, timedelta(days=1))
    applied: list[str] = []

    async def handler(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        applied.append(event.payload.name)
        await db["effects"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True, session=session)

    try:
        old, new1, new2 = created(1), created(2), created(3)
        assert await processed.apply_batch("c", [(old, handler)]) == [True]
        flags = await processed.apply_batch("c", [(new1, handler), (old, handler), (new2, handler), (new1, handler)])
        assert flags == [True, False, True, False]
        assert applied == ["batch-1.be", "batch-2.be", "batch-3.be"]  # the abandoned attempt ran none (old first)
        assert {d["_id"]: d["n"] for d in await db["effects"].find({}).to_list()} == {
            "batch-1.be": 1, "batch-2.be": 1, "batch-3.be": 1}
        assert sorted(await recorded(db["processed_events"])) == sorted(f"c:{e.event_id}" for e in (old, new1, new2))
    finally:
        await client.drop_database(f"{namespace}_processed")
        await client.close()


async def test_a_handler_with_a_ledger_of_its_own_records_its_events_there_and_applies_each_once(
    namespace: str,
) -> None:
    """A BatchHandler that names a ledger (reporting's journal) has its events recorded there, not in
    processed_events; a plain handler's events in the same batch still go to processed_events; an event recorded in
    either before is applied never again."""
    from datetime import datetime as dt
    from datetime import timedelta

    from pymongo import AsyncMongoClient

    from shared.mongo.idempotency import ProcessedEvents
    from tests.integration.infra import MONGODB_URL

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_ledger"]
    processed = ProcessedEvents(client, db, timedelta(days=1))

    class Journal:
        def collection(self) -> Any:
            return db["journal"]

        def record_id(self, consumer: str, event: EventEnvelope[Any]) -> str:
            return str(event.event_id)

        def record(self, events: Sequence[EventEnvelope[Any]], now: dt) -> dict[str, Any]:
            return {"names": [e.payload.name for e in events]}

    async def apply_many(events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        for event in events:
            await db["effects"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True,
                                           session=session)

    async def plain(event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        await db["effects"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True, session=session)

    journaled = BatchHandler(apply_many, ledger=Journal())
    try:
        first, second, third, other = created(1), created(2), created(3), created(4)
        assert await processed.apply_batch("c", [(first, journaled), (other, plain)]) == [True, True]
        assert await recorded(db["journal"]) == [str(first.event_id)]
        assert await recorded(db["processed_events"]) == [f"c:{other.event_id}"]
        # redeliveries of both among new events: the first attempt meets the journal's duplicate key
        flags = await processed.apply_batch("c", [(second, journaled), (first, journaled), (other, plain),
                                                  (third, journaled), (second, journaled)])
        assert flags == [True, False, False, True, False]
        assert {d["_id"]: d["n"] for d in await db["effects"].find({}).to_list()} == {
            "batch-1.be": 1, "batch-2.be": 1, "batch-3.be": 1, "batch-4.be": 1}
        assert sorted(await recorded(db["journal"])) == sorted(str(e.event_id) for e in (first, second, third))
        assert await recorded(db["processed_events"]) == [f"c:{other.event_id}"]
    finally:
        await client.drop_database(f"{namespace}_ledger")
        await client.close()


async def test_an_event_whose_handler_fails_is_dead_lettered_alone_and_its_batch_applied(namespace: str) -> None:
    """A handler that fails for one event fails its batch's transaction: the batch is applied again one event at a
    time, the others commit, and the bad one is requeued until the delivery limit parks it."""
    bad = "batch-4.be"

    def handlers(ctx: ServiceContext) -> dict[type, BatchHandler]:
        async def apply(events: Sequence[EventEnvelope[Any]], session: AsyncClientSession) -> None:
            for event in events:
                if event.payload.name == bad:
                    raise RuntimeError("a bug that only this event meets")
                await ctx.db["applied"].update_one({"_id": event.payload.name}, {"$inc": {"n": 1}}, upsert=True,
                                                   session=session)

        return {DomainCreated: BatchHandler(apply)}

    settings = ServiceSettings(service_name="batches", namespace=namespace, delivery_limit=2, consume_batch_size=20)
    app = create_app(ServiceSpec(name="batches", settings=settings, description="test", handlers=handlers))
    async with running(app):
        pass
    await publish(namespace, [created(i).to_json() for i in range(10)])
    app = create_app(ServiceSpec(name="batches", settings=settings, description="test", handlers=handlers))
    async with running(app):
        ctx: ServiceContext = app.state.ctx
        await eventually(lambda: queue_depth(f"{namespace}.batches.events.dlq"), lambda n: n == 1)
        counts = await applied_counts(ctx)
        assert counts == {f"batch-{i}.be": 1 for i in range(10) if f"batch-{i}.be" != bad}
        assert await queue_depth(f"{namespace}.batches.events") == 0
