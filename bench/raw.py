"""The raw capacity of the broker and the store, with nothing of the platform in between: what each platform
figure is set against (bench/report.py).

  broker  persistent messages with publisher confirms into a quorum queue, RAW_BATCH publishes in flight (as
          the outbox relay sends them); consumed with manual acks at prefetch PREFETCH_COUNT. Publish alone,
          consume alone (of what was published), and both at once.
  rpc     request/reply round trips over the broker, one at a time, with direct reply-to and a responder
          that answers at once (what an EPP poll req or ack costs in transport alone; a pair is two)
  store   insert_one, find_one by _id and update_one $inc by _id on a collection with a unique index, from 1
          and 8 concurrent clients (coroutines sharing one connection pool, as a service does);
          the create transaction of a domain: insert the domain, insert its outbox event, debit the
          registrar's balance (one registrar per client, so clients do not conflict), and commit.

Run: .venv/bin/python bench/raw.py   (BENCH_RAW_MESSAGES, BENCH_RAW_OPS set the counts; make bench runs it first)
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from bench.report import emit
from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from tests.integration.infra import AMQP_URL, MONGODB_URL

MESSAGES = int(os.environ.get("BENCH_RAW_MESSAGES", "5000"))
OPS = int(os.environ.get("BENCH_RAW_OPS", "2000"))
BATCH = int(os.environ.get("RAW_BATCH", "200"))
PREFETCH = int(os.environ.get("PREFETCH_COUNT", "256"))
RPC = int(os.environ.get("BENCH_RAW_RPC", "1000"))


def _body() -> bytes:
    return new_event(DomainCreated(name="raw.be", tld="be", registered_at=datetime.now(UTC)), registrar_id="a",
                     correlation_id=None, clock=SystemClock()).to_json()


async def _publish(channel: aio_pika.abc.AbstractChannel, queue: str, n: int, batch: int = BATCH) -> None:
    body = _body()
    for first in range(0, n, batch):
        await asyncio.gather(*(
            channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(i)),
                routing_key=queue)
            for i in range(first, min(first + batch, n))
        ))


async def _consume(queue: aio_pika.abc.AbstractQueue, n: int) -> None:
    received, done = 0, asyncio.Event()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal received
        await message.ack()
        received += 1
        if received == n:
            done.set()

    tag = await queue.consume(on_message)
    await asyncio.wait_for(done.wait(), timeout=1200)
    await queue.cancel(tag)


@contextlib.asynccontextmanager
async def _quorum_queue(prefetch: int) -> AsyncIterator[tuple[aio_pika.abc.AbstractChannel, aio_pika.abc.AbstractQueue]]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.declare_queue(f"bench-raw-{uuid.uuid4().hex[:10]}", durable=True,
                                            arguments={"x-queue-type": "quorum"})
        try:
            yield channel, queue
        finally:
            await queue.delete(if_unused=False, if_empty=False)


async def publish_consume_rate(n: int = MESSAGES, *, prefetch: int = PREFETCH, batch: int = BATCH) -> float:
    """msg/s published and consumed at once."""
    async with _quorum_queue(prefetch) as (channel, queue):
        started = time.perf_counter()
        await asyncio.gather(_consume(queue, n), _publish(channel, queue.name, n, batch))
        return n / (time.perf_counter() - started)


async def broker_rates(n: int = MESSAGES) -> dict[str, float]:
    """msg/s: publish alone, consume alone (what was published), publish and consume at once."""
    async with _quorum_queue(PREFETCH) as (channel, queue):
        started = time.perf_counter()
        await _publish(channel, queue.name, n)
        publish = n / (time.perf_counter() - started)
        started = time.perf_counter()
        await _consume(queue, n)
        consume = n / (time.perf_counter() - started)
    return {"raw.publish": publish, "raw.consume": consume, "raw.publish_consume": await publish_consume_rate(n)}


async def rpc_rate(n: int = RPC) -> float:
    """Request/reply round trips per second, one at a time: a request to a queue, a responder that answers at
    once on the request's channel (no confirms), the reply over direct reply-to to a long-lived consumer."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        client, server = await connection.channel(publisher_confirms=False), await connection.channel(
            publisher_confirms=False)
        queue = await server.declare_queue(f"bench-rpc-{uuid.uuid4().hex[:10]}", exclusive=True)

        async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await server.default_exchange.publish(aio_pika.Message(message.body, correlation_id=message.correlation_id),
                                                  routing_key=message.reply_to or "", mandatory=False)

        await queue.consume(answer, no_ack=True)
        waiting: dict[str, asyncio.Future[bytes]] = {}

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            future = waiting.pop(message.correlation_id or "", None)
            if future is not None and not future.done():
                future.set_result(message.body)

        replies = await client.declare_queue("amq.rabbitmq.reply-to", passive=True)
        await replies.consume(on_reply, no_ack=True)
        started = time.perf_counter()
        for i in range(n):
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            waiting[str(i)] = future
            await client.default_exchange.publish(
                aio_pika.Message(b"{}", correlation_id=str(i), reply_to="amq.rabbitmq.reply-to"), routing_key=queue.name)
            await asyncio.wait_for(future, 10)
        return n / (time.perf_counter() - started)


async def _rate(n: int, clients: int, op: Callable[[int], Awaitable[object]]) -> float:
    counter = iter(range(n))

    async def client() -> None:
        for i in counter:
            await op(i)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return n / (time.perf_counter() - started)


async def update_rate(n: int = OPS, clients: int = 1) -> float:
    """op/s of update_one $inc by _id on a collection of its own (dropped afterwards)."""
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL)
    name = f"bench_raw_{uuid.uuid4().hex[:10]}"
    try:
        docs = client[name]["docs"]
        await docs.insert_many([{"_id": i, "n": 0} for i in range(n)])

        async def update(i: int) -> None:
            await docs.update_one({"_id": i}, {"$inc": {"n": 1}})

        return await _rate(n, clients, update)
    finally:
        await client.drop_database(name)
        await client.close()


async def store_rates(n: int = OPS) -> dict[str, float]:
    """op/s of single-document operations and of the create transaction, from 1 and 8 clients."""
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL)
    name = f"bench_raw_{uuid.uuid4().hex[:10]}"
    db = client[name]
    out: dict[str, float] = {}
    try:
        docs = db["docs"]
        await docs.create_index("key", unique=True)
        for clients in (1, 8):
            run = uuid.uuid4().hex[:6]

            async def insert(i: int, run: str = run) -> None:
                await docs.insert_one({"_id": f"{run}-{i}", "key": f"{run}-{i}", "n": 0, "at": datetime.now(UTC)})

            async def find(i: int, run: str = run) -> None:
                await docs.find_one({"_id": f"{run}-{i}"})

            async def update(i: int, run: str = run) -> None:
                await docs.update_one({"_id": f"{run}-{i}"}, {"$inc": {"n": 1}})

            out[f"raw.insert.c{clients}"] = await _rate(n, clients, insert)
            out[f"raw.find.c{clients}"] = await _rate(n, clients, find)
            out[f"raw.update.c{clients}"] = await _rate(n, clients, update)
        await db["domains"].create_index("name", unique=True)
        await db["outbox"].create_index("event_id", unique=True)
        body = _body().decode()
        for clients in (1, 8):
            run = uuid.uuid4().hex[:6]
            await db["registrars"].insert_many([{"_id": f"{run}-r{c}", "balance_cents": 10**12} for c in range(8)])

            async def create(i: int, run: str = run) -> None:
                async def work(session: AsyncClientSession) -> None:
                    await db["domains"].insert_one({"_id": f"{run}-{i}.be", "name": f"{run}-{i}.be",
                                                    "registrar_id": f"{run}-r{i % 8}"}, session=session)
                    await db["outbox"].insert_one({"event_id": f"{run}-{i}", "body": body}, session=session)
                    done = await db["registrars"].update_one({"_id": f"{run}-r{i % 8}", "balance_cents": {"$gte": 100}},
                                                             {"$inc": {"balance_cents": -100}}, session=session)
                    assert done.modified_count == 1

                async with client.start_session() as session:
                    await session.with_transaction(work)

            out[f"raw.create_tx.c{clients}"] = await _rate(n, clients, create)
    finally:
        await client.drop_database(name)
        await client.close()
    return out


async def rabbitmq_version() -> str | None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        props = connection.transport.connection.server_properties if connection.transport else {}
        version = props.get("version")
        return version.decode() if isinstance(version, bytes) else str(version) if version else None


async def main() -> None:
    figures = await broker_rates() | {"raw.rpc": await rpc_rate()} | await store_rates()
    print(f"broker: {MESSAGES} messages, batch {BATCH}, prefetch {PREFETCH}; store: {OPS} operations per figure, "
          f"MONGODB_URL={MONGODB_URL}")
    for key, value in figures.items():
        print(f"{key:<28} {value:10.0f} /s")
    emit(figures)


if __name__ == "__main__":
    asyncio.run(main())
