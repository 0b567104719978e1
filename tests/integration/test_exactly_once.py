"""Exactly-once effects on top of at-least-once delivery, proven against the real broker and database:
a duplicate publish (relay crash after confirm), a redelivery, a poison message, a handler that keeps
failing, and services killed with SIGKILL in the middle of a stream."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from services.reporting import journal
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import DomainCreated, EventEnvelope, new_event
from shared.mongo.outbox import Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext, ServiceSpec, create_app
from shared.settings import ServiceSettings
from tests.integration.infra import (
    MONGODB_URL,
    OPERATOR,
    ServiceProcess,
    eventually,
    login,
    queue_depth,
    running,
)


def domain_created(name: str, registrar: str = "a100001") -> EventEnvelope[DomainCreated]:
    now = datetime.now(UTC)
    payload = DomainCreated(name=name, tld="be", registered_at=now)
    return new_event(payload, registrar_id=registrar, correlation_id=None, clock=SystemClock())


async def test_an_event_published_twice_is_applied_once(namespace: str) -> None:
    """The relay crashed after the broker confirmed but before it deleted the record: it publishes again."""
    reporting_app = build_reporting(ReportingSettings(namespace=namespace, operator_token="operator-dev-token"))
    async with running(reporting_app) as reporting:
        ctx: ServiceContext = reporting_app.state.ctx
        # a publishing side of its own: outbox and relay in a scratch database of the namespace
        db = ctx.client[f"{namespace}_publisher"]
        outbox = Outbox(db)
        relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="test", poll_seconds=0.05)
        events = [domain_created(f"dup-{i}.be") for i in range(3)]

        async def write(session: AsyncClientSession) -> None:
            await outbox.add(events, session)

        await in_transaction(ctx.client, write)
        # first round "crashes" after publishing: confirmed but never deleted
        assert await relay._publishing(await outbox.collection.find({}).sort("_id", 1).to_list()) == [None] * 3
        assert await outbox.collection.count_documents({}) == 3
        # the restarted relay publishes all three again, then deletes them
        assert await relay.relay_once() == 3
        assert await outbox.collection.count_documents({}) == 0
        # and a broker redelivery of one of them, published once more by hand
        await ctx.publisher.publish(events[0])

        async def consumed() -> str:
            return (await reporting.get("/metrics")).text

        await eventually(consumed, lambda m: 'outcome="duplicate"} 4.0' in m)
        assert (await reporting.get("/api/portfolios/a100001", headers=OPERATOR)).json()["domains"] == 3
        assert 'events_consumed_total{event_type="domain.created",outcome="processed"} 3.0' in await consumed()


async def test_a_poison_message_is_dead_lettered_at_once(namespace: str) -> None:
    settings = ReportingSettings(namespace=namespace, operator_token="operator-dev-token")
    reporting_app = build_reporting(settings)
    async with running(reporting_app) as reporting:
        ctx: ServiceContext = reporting_app.state.ctx
        for body in (b"not json at all", b'{"event_type": "domain.created", "event_version": 1}'):
            await ctx.broker.publish(
                body, exchange=ctx.topology.events_exchange, routing_key="domain.created", persist=True
            )
        await eventually(lambda: queue_depth(f"{settings.queue_name}.dlq"), lambda n: n == 2)
        metrics = (await reporting.get("/metrics")).text
        assert 'events_consumed_total{event_type="unknown",outcome="rejected"} 2.0' in metrics
        assert "outcome=\"retried\"" not in metrics  # parked at once, not retried
        # the service goes on: a good event after the poison ones is applied
        await ctx.publisher.publish(domain_created("after-poison.be"))
        await eventually(
            lambda: reporting.get("/api/portfolios/a100001", headers=OPERATOR), lambda r: r.json()["domains"] == 1
        )


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_the_delivery_limit(namespace: str) -> None:
    attempts: list[uuid.UUID] = []

    def handlers(ctx: ServiceContext):
        async def always_fails(event: EventEnvelope[DomainCreated], session: AsyncClientSession) -> None:
            attempts.append(event.event_id)
            raise RuntimeError("a bug in the handler")

        return {DomainCreated: always_fails}

    settings = ServiceSettings(service_name="flaky", namespace=namespace, delivery_limit=2)
    app = create_app(ServiceSpec(name="flaky", settings=settings, description="test", handlers=handlers))
    async with running(app):
        ctx: ServiceContext = app.state.ctx
        event = domain_created("never.be")
        await ctx.publisher.publish(event)
        await eventually(lambda: queue_depth(f"{settings.queue_name}.dlq"), lambda n: n == 1)
        # the first delivery and `delivery_limit` redeliveries, then parked; the failed work left no trace
        assert attempts == [event.event_id] * 3
        assert await ctx.db["processed_events"].count_documents({}) == 0
        assert await queue_depth(settings.queue_name) == 0


async def test_exactly_once_while_consumer_and_relay_are_killed_mid_stream(namespace: str, tmp_path: Path) -> None:
    registry = ServiceProcess(
        "registry", namespace, tmp_path, SEED_DEMO_REGISTRAR="true", OUTBOX_LEASE_SECONDS="2", OUTBOX_BATCH_SIZE="5"
    )
    reporting = ServiceProcess("reporting", namespace, tmp_path)
    mongo: AsyncMongoClient = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    try:
        await registry.start()
        await reporting.start()
        counter = iter(range(10_000))

        async def create(n: int) -> None:
            async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
                http.headers.update(await login(http))

                async def one() -> None:
                    with contextlib.suppress(httpx.TransportError):  # the registry may be killed meanwhile
                        await http.post("/api/domains", json={"registrant": "a100001-demo", "name": f"kill-{next(counter)}.be"})

                for _ in range(n // 10):
                    await asyncio.gather(*(one() for _ in range(10)))

        await create(60)
        burst = asyncio.create_task(create(80))
        await asyncio.sleep(0.3)
        reporting.kill()  # the consumer dies holding unacknowledged deliveries
        await burst
        await reporting.start()

        # another replica holds the relay's lease: this one must not publish, so the burst waits in the outbox
        leases = mongo[f"{namespace}_registry"]["leases"]
        await leases.replace_one(
            {"_id": "outbox-relay"},
            {"owner": "another-replica", "expires_at": datetime.now(UTC) + timedelta(minutes=5)},
            upsert=True,
        )
        # this relay renews (and so re-checks) its lease only once a third of it has gone (0.7 s of 2 s): until then
        # it may still finish the batches of a round begun before; a real replica never takes a lease that has not
        # lapsed, so only this test's forced take-over meets that window
        await asyncio.sleep(1.0)
        await create(80)
        waiting = await mongo[f"{namespace}_registry"]["outbox"].count_documents({})
        assert waiting >= 60, waiting
        # the registry dies with its outbox full. (Killed between commands, not inside one: the MongoDB
        # stand-in keeps a killed client's open transaction locking its documents; see the README.)
        registry.kill()
        await leases.delete_one({"_id": "outbox-relay", "owner": "another-replica"})  # that replica is gone too
        await registry.start()
        await create(40)

        registry_db, reporting_db = mongo[f"{namespace}_registry"], mongo[f"{namespace}_reporting"]
        await eventually(lambda: registry_db["outbox"].count_documents({}), lambda n: n == 0, timeout=60)
        created = await registry_db["domains"].count_documents({})
        assert created >= 100  # enough went through for the test to mean something

        async def counted() -> int:
            doc = await reporting_db["portfolios"].find_one({"_id": "a100001"})
            return doc["domains"] if doc else 0

        assert await eventually(counted, lambda n: n >= created, timeout=60) == created
        await asyncio.sleep(1.0)  # late duplicates would show up now
        assert await counted() == created
        # reporting records the events it applied in its journal (its ledger)
        applied = await journal.event_ids(reporting_db, "domain.created")
        assert len(applied) == len(set(applied)) == created
    finally:
        registry.stop()
        reporting.stop()
        await mongo.close()
