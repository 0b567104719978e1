"""The outbox relay while the broker is away: one warning (no traceback per commit), exponential back-off that
commits do not cut short, and every event relayed once the broker answers again. The publishing side reaches
the real RabbitMQ through a TCP proxy of this test, which is closed and reopened: the shared broker itself is
never touched."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pydantic import SecretStr
from pymongo.asynchronous.client_session import AsyncClientSession

from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.messaging.publisher import EventPublisher, OutgoingEvent
from shared.mongo.outbox import NotConfirmed, Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.observability.metrics import ServiceMetrics
from shared.runtime import ServiceContext
from tests.integration.infra import AMQP_URL, AMQP_USER, OPERATOR, eventually, running


class TcpProxy:
    """Forwards a local port to RabbitMQ; `close` makes the port refuse connections and drops those open."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.pipes):
            task.cancel()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}
        pipes = [asyncio.create_task(self._pipe(reader, up_writer)), asyncio.create_task(self._pipe(up_reader, writer))]
        self.pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def relay_log() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("shared.mongo.outbox")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_the_relay_backs_off_while_the_broker_is_away_and_relays_once_it_answers(
        namespace: str, relay_log: Records) -> None:
    host, port = AMQP_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.open()
    reporting_app = build_reporting(ReportingSettings(namespace=namespace, operator_token=SecretStr("operator-dev-token")))
    async with running(reporting_app) as reporting:
        ctx: ServiceContext = reporting_app.state.ctx
        broker = RabbitBroker(f"amqp://guest:guest@127.0.0.1:{proxy.port}/", fail_fast=True)
        await broker.connect()
        db = ctx.client[f"{namespace}_publisher"]
        metrics = ServiceMetrics("relay-test")
        relay = OutboxRelay(db, EventPublisher(broker, ctx.topology.events_exchange, confirm_timeout=1.0, user_id=AMQP_USER), metrics,
                            owner="test", poll_seconds=0.05, max_backoff_seconds=1.6,
                            publish_timeout_seconds=0.5)
        task = asyncio.create_task(relay.run())
        try:
            await proxy.close()  # the broker is away: the port refuses connections
            events = [new_event(DomainCreated(name=f"away-{i}.be", tld="be", registered_at=datetime.now(UTC)),
                                registrar_id="a100001", correlation_id=None, clock=SystemClock()) for i in range(3)]
            for event in events:  # commits keep coming, each waking the relay, as a busy service's would
                async def write(session: AsyncClientSession, event=event) -> None:
                    await Outbox(db).add([event], session)

                await in_transaction(ctx.client, write)
                relay.wake()
            for _ in range(120):  # 6 s of a wake every 50 ms
                relay.wake()
                await asyncio.sleep(0.05)
            failed_rounds = metrics.outbox_errors._value.get()
            assert relay.failing_since is not None and await db["outbox"].count_documents({}) == 3
            # back-off doubling from 0.1 s to 1.6 s (each round waits 0.5 s for the broker): a handful of rounds
            # in 6 s, not one per wake (120)
            assert 2 <= failed_rounds <= 10, failed_rounds
            delays = [float(r.getMessage().split("next try in ")[1].split()[0]) for r in relay_log.records
                      if r.getMessage().startswith("outbox relay round")]
            assert delays[:4] == [0.1, 0.2, 0.4, 0.8], delays
            warnings = [r for r in relay_log.records if r.levelno >= logging.WARNING]
            assert len(warnings) == 1 and "cannot publish" in warnings[0].getMessage(), \
                [r.getMessage() for r in warnings]
            assert not any(r.exc_info for r in relay_log.records), "no traceback while the broker is away"

            await proxy.open()  # the broker answers again on the same port: every event goes out, once

            async def domains() -> int:
                r = await reporting.get("/api/portfolios/a100001", headers=OPERATOR)
                return int(r.json()["domains"]) if r.status_code == 200 else 0

            await eventually(domains, lambda n: n >= 3, timeout=30)
            assert await db["outbox"].count_documents({}) == 0
            assert await domains() == 3
            assert any("publishing again" in r.getMessage() for r in relay_log.records)
        finally:
            await relay.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await broker.stop()
            with contextlib.suppress(Exception):
                await proxy.close()


async def test_a_commit_while_a_round_is_under_way_is_relayed_at_once_not_at_the_next_poll(namespace: str) -> None:
    """A commit wakes the relay; one that lands after a round read the outbox must not be forgotten when that
    round ends (it would wait a whole poll interval: here 30 s)."""
    reporting_app = build_reporting(ReportingSettings(namespace=namespace, operator_token=SecretStr("operator-dev-token")))
    async with running(reporting_app) as reporting:
        ctx: ServiceContext = reporting_app.state.ctx
        db = ctx.client[f"{namespace}_publisher"]

        def created(name: str) -> Any:
            return new_event(DomainCreated(name=name, tld="be", registered_at=datetime.now(UTC)),
                             registrar_id="a100001", correlation_id=None, clock=SystemClock())

        async def commit(event: Any) -> None:
            async def write(session: AsyncClientSession) -> None:
                await Outbox(db).add([event], session)

            await in_transaction(ctx.client, write)
            relay.wake()  # what the service's commit does

        class CommitsMeanwhile(EventPublisher):
            committed = False

            async def publish_batch(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
                if not self.committed:  # during the first round, after its read
                    self.committed = True
                    await commit(created("later.be"))
                return await super().publish_batch(events)

        relay = OutboxRelay(db, CommitsMeanwhile(ctx.broker, ctx.topology.events_exchange, user_id=AMQP_USER),
                            ServiceMetrics("relay-wake-test"), owner="test", poll_seconds=30)
        await commit(created("first.be"))
        task = asyncio.create_task(relay.run())
        try:
            async def domains() -> int:
                r = await reporting.get("/api/portfolios/a100001", headers=OPERATOR)
                return int(r.json()["domains"]) if r.status_code == 200 else 0

            assert await eventually(domains, lambda n: n >= 2, timeout=10) == 2
        finally:
            await relay.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Recording:
    """A publisher that takes a moment per batch (as a broker's confirms do) and fails the events named in
    `failing` once each; it records what it published and how many events were in flight at most."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.published: list[str] = []
        self.failing = set(failing or ())
        self.in_flight = self.most_in_flight = 0

    async def publish_batch(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        self.in_flight += len(events)
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            outcomes: list[BaseException | None] = []
            for event in events:
                if event.event_id in self.failing:
                    self.failing.discard(event.event_id)
                    outcomes.append(ConnectionError("not confirmed"))
                else:
                    self.published.append(event.event_id)
                    outcomes.append(None)
            return outcomes
        finally:
            self.in_flight -= len(events)


async def backlog(namespace: str, n: int) -> tuple[Any, Any, list[str]]:
    """A publisher's database with n events in its outbox (one transaction each, as commands write them)."""
    from pymongo import AsyncMongoClient

    from tests.integration.infra import MONGODB_URL

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[f"{namespace}_publisher"]
    ids = []
    for i in range(n):
        event = new_event(DomainCreated(name=f"b-{i}.be", tld="be", registered_at=datetime.now(UTC)),
                          registrar_id="a100001", correlation_id=None, clock=SystemClock())

        async def write(session: AsyncClientSession, event: Any = event) -> None:
            await Outbox(db).add([event], session)

        await in_transaction(client, write)
        ids.append(str(event.event_id))
    return client, db, ids


async def test_a_backlog_is_relayed_in_one_sweep_of_overlapping_batches_each_event_once_in_order(
        namespace: str) -> None:
    client, db, ids = await backlog(namespace, 23)
    try:
        publisher = Recording()
        relay = OutboxRelay(db, publisher, ServiceMetrics("relay-sweep-test"), owner="test",  # type: ignore[arg-type]
                            batch_size=5)
        assert await relay.lease.acquire()
        assert await relay.relay_all() == 23
        assert publisher.published == ids  # each once, in the order written
        assert await db["outbox"].count_documents({}) == 0
        # the next batch was being published while the one before waited for its confirms
        assert publisher.most_in_flight > 5
    finally:
        await client.close()


async def test_a_sweep_that_meets_an_unconfirmed_event_keeps_it_and_deletes_the_confirmed_ones(
        namespace: str) -> None:
    client, db, ids = await backlog(namespace, 12)
    try:
        publisher = Recording(failing={ids[6]})  # in the second batch of five
        relay = OutboxRelay(db, publisher, ServiceMetrics("relay-sweep-fail-test"), owner="test",  # type: ignore[arg-type]
                            batch_size=5)
        assert await relay.lease.acquire()
        with pytest.raises(NotConfirmed):
            await relay.relay_all()
        # the first batch, the rest of the second and whatever of the third was in flight: confirmed and deleted
        left = [d["event_id"] for d in await db["outbox"].find({}).sort("_id", 1).to_list()]
        assert ids[6] in left and set(left) == set(ids) - set(publisher.published)
        assert set(ids[:6]) | set(ids[7:10]) <= set(publisher.published)
        assert await relay.relay_all() == len(left)  # the next sweep publishes what stayed
        assert sorted(publisher.published) == sorted(ids) and await db["outbox"].count_documents({}) == 0
    finally:
        await client.close()


async def test_the_outbox_index_an_earlier_version_made_is_dropped_at_start_up(namespace: str) -> None:
    """The outbox carries no index beyond _id (each would cost every relayed event a write at insert and at
    delete): an event_id index left by an earlier version goes at start-up, and ensuring twice, or on a database
    without an outbox yet, is no error."""
    from pymongo import ASCENDING, AsyncMongoClient, IndexModel

    from shared.mongo.indexes import ensure_indexes
    from shared.mongo.outbox import OUTBOX_INDEXES
    from tests.integration.infra import MONGODB_URL

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    try:
        await ensure_indexes(client[f"{namespace}_fresh"], OUTBOX_INDEXES)  # no outbox collection yet
        db = client[f"{namespace}_publisher"]
        await db["outbox"].create_indexes([IndexModel([("event_id", ASCENDING)], unique=True)])
        assert "event_id_1" in await db["outbox"].index_information()
        await ensure_indexes(db, OUTBOX_INDEXES)
        await ensure_indexes(db, OUTBOX_INDEXES)
        assert sorted(await db["outbox"].index_information()) == ["_id_"]
    finally:
        await client.close()
