"""Notifications: poll messages enqueued per second, and mails delivered per second over real SMTP.

  poll    BENCH_EVENTS hitpoints.threshold_reached events for BENCH_REGISTRARS registrars with EPP poll on,
          waiting in notifications' quorum queue; a notifications process starts and queues them all
          (dedup record, registrar settings read, poll message insert, in micro-batched transactions).
  mails   the same number of events for registrars with poll off: each becomes a CPS mail, recorded and
          sent to a local aiosmtpd server on loopback (in this process); the figure is from start to the
          last mail received by the server.
  rpc     BENCH_RPC poll req+ack pairs from one EPP session over TLS, one at a time: the registry's EPP
          server asks notifications over the broker (direct reply-to, shared/poll_rpc.py PollClient) for
          each; pairs per second and the pair's latency. Beside it, what bounds a pair on this machine: the
          store's part of it alone (the req's find of the head, the ack's write: one conditional update of the
          head that takes the message out and records the ack, as services/notifications/poll_heads.py
          acknowledge writes it; settlement, off the request path, not counted) and the broker's (bench/raw.py
          rpc: a request/reply round trip with a responder that answers at once).

Run: .venv/bin/python bench/bench_notifications.py  (or make bench ARGS=bench/bench_notifications.py).
Figures through the local MongoDB stand-in say more about the stand-in than about MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.raw import rpc_rate as bare_rpc_rate
from bench.report import emit, percentile
from services.notifications.app import build
from services.notifications.poll_settlement import ACKED_MAX
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NOTIFICATIONS_INDEXES
from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from shared.clock import SystemClock
from shared.events import EventEnvelope, new_event
from shared.events.hitpoints import HitpointsThresholdReached
from shared.events.registrars import RegistrarCreated
from shared.mongo.indexes import ensure_indexes
from shared.mongo.outbox import OUTBOX_INDEXES
from tests.integration.epp_client import EppClient
from tests.integration.infra import AMQP_URL, delete_namespace, eventually, running
from tests.integration.infra import AMQP_USER, MONGODB_URL
from tests.integration.smtp_server import SmtpCatcher

N = int(os.environ.get("BENCH_EVENTS", "2000"))
REGISTRARS = int(os.environ.get("BENCH_REGISTRARS", "20"))
RPC = int(os.environ.get("BENCH_RPC", "300"))
PREFETCH = int(os.environ.get("PREFETCH_COUNT", "256"))
DEMO = "a100001"  # the seeded demo registrar: EPP poll on
SETTLED = 20  # acks a settlement takes out of the head at a time in store_part (about POLL_SETTLE_SECONDS' worth)


def event(payload: Any, registrar_id: str) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=SystemClock())


async def publish(namespace: str, events: list[EventEnvelope[Any]]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.registry.events")
        for first in range(0, len(events), 500):
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(e.to_json(), message_id=str(e.event_id), type=e.event_type,
                                                  content_type="application/json", user_id=AMQP_USER,
                                                  delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                 routing_key=e.event_type)
                for e in events[first:first + 500]
            ))


def registrars(poll: bool) -> tuple[list[str], list[EventEnvelope[Any]]]:
    ids = [f"{'p' if poll else 'm'}bench{i:03d}" for i in range(REGISTRARS)]
    created = [event(RegistrarCreated(name=r, products=["be"], languages=["en"], email=f"info@{r}.example",
                                      automated_email=f"epp@{r}.example", poll=poll), r) for r in ids]
    return ids, created


def warnings(ids: list[str]) -> list[EventEnvelope[Any]]:
    return [event(HitpointsThresholdReached(percent=80, hitpoints=i, limit=1000, reached_at=datetime.now(UTC)),
                  ids[i % len(ids)]) for i in range(N)]


async def run(namespace: str, smtp_port: int, poll: bool, done: Any) -> float:
    settings = NotificationsSettings(namespace=namespace, log_level="WARNING", prefetch_count=PREFETCH,
                                     smtp_port=smtp_port, dispatch_poll_seconds=0.05, gauges_interval_seconds=3600)
    ids, created = registrars(poll)
    app = build(settings)
    async with running(app):  # declares the queue and its bindings; learns the registrars
        await publish(namespace, created)
        db = app.state.ctx.db

        async def known() -> int:
            return await db["registrars"].count_documents({})

        await eventually(known, lambda n: n >= REGISTRARS, timeout=120)
    await publish(namespace, warnings(ids))
    app = build(settings)
    started = time.perf_counter()
    async with running(app):
        await eventually(lambda: done(app.state.ctx.db), lambda n: n >= N, timeout=3600)
        elapsed = time.perf_counter() - started
        assert await done(app.state.ctx.db) == N, "every event applied exactly once"
    return N / elapsed


@contextlib.asynccontextmanager
async def epp_session_with_messages(namespace: str, count: int, **notifications: Any) -> AsyncIterator[EppClient]:
    """Notifications and the registry (its demo registrar, EPP on a free port, no rate limits) running, `count`
    poll messages queued for the demo registrar, and one EPP session logged in as it."""
    settings = NotificationsSettings(namespace=namespace, log_level="WARNING", gauges_interval_seconds=3600,
                                     **notifications)
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, log_level="WARNING",
                                         epp_port=0, epp_rate_limits={})
    app = build(settings)
    async with running(app), running(build_registry(registry_settings)) as registry:
        ctx, reg = app.state.ctx, registry._transport.app.state.ctx  # type: ignore[attr-defined]

        async def knows_demo() -> bool:
            return bool((await ctx.db["registrars"].find_one({"_id": DEMO}) or {}).get("poll"))

        await eventually(knows_demo, bool, timeout=120)
        await publish(namespace, [event(HitpointsThresholdReached(
            percent=80, hitpoints=i, limit=1000, reached_at=datetime.now(UTC)), DEMO) for i in range(count)])

        async def queued() -> int:
            return await ctx.db["poll_messages"].count_documents({"registrar_id": DEMO})

        await eventually(queued, lambda n: n >= count, timeout=600)
        client = EppClient(reg.extras["epp_port"])
        await client.connect()
        assert (await client.login()).code == 1000
        try:
            yield client
        finally:
            await client.logout()
            await client.close()


async def rpc(namespace: str, smtp_port: int) -> tuple[float, list[float], int]:
    """Poll req+ack pairs from one EPP session over TLS: EPP server -> broker -> notifications -> reply."""
    async with epp_session_with_messages(namespace, RPC, smtp_port=smtp_port) as client:
        started, pairs, failures = time.perf_counter(), [], 0
        for _ in range(RPC):
            began = time.perf_counter()
            req = await client.command('<poll op="req"/>')
            msgq = req.find("epp:response/epp:msgQ")
            if req.code != 1301 or msgq is None:  # 2400: the poll service did not answer within 5 s
                failures += 1
                continue
            ack = await client.command(f'<poll op="ack" msgID="{msgq.get("id")}"/>')
            if ack.code != 1000:
                failures += 1
                continue
            pairs.append(time.perf_counter() - began)
        return RPC / (time.perf_counter() - started), pairs, failures


async def store_part(n: int = 300) -> tuple[float, float]:
    """The p50 in ms of the store's part of a pair, alone: a find of a head document by _id (the req), and the ack's
    write (one conditional update of the head), on a database of its own with the service's indexes. The acks are
    taken out of the head every SETTLED acks, untimed, as settlement does."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL)
    db = client[f"bench_ack_{uuid.uuid4().hex[:10]}"]
    now = datetime.now(UTC)
    message = {"registrar_id": "r", "message": "hitpoints.threshold_reached", "queued_at": now, "text": "x" * 80,
               "fields": {f"field{j}": "v" * 20 for j in range(6)}, "language": "en", "event_id": uuid.uuid4().hex,
               "acked_at": None, "expires_at": now}
    messages = [{"_id": i, **message} for i in range(n + 20)]
    try:
        await ensure_indexes(db, [*NOTIFICATIONS_INDEXES, *OUTBOX_INDEXES])  # the service's, each write maintains them
        await db["poll_messages"].insert_many(messages)
        await db["poll_heads"].insert_one({"_id": "r", "count": n, "next": messages[:20], "rev": "0",
                                           "expires_min": now})
        finds, acks = [], []
        for i in range(n):
            began = time.perf_counter()
            await db["poll_heads"].find_one({"_id": "r"})
            finds.append(time.perf_counter() - began)
            began = time.perf_counter()
            entry = {"_id": i, "via": "epp", "at": now, "until": now, "event_id": str(uuid.uuid4())}
            await db["poll_heads"].update_one(
                {"_id": "r", "rev": str(i), f"acked.{ACKED_MAX - 1}": {"$exists": False}},
                {"$pull": {"next": {"_id": i}}, "$set": {"count": n - i - 1, "rev": str(i + 1)},
                 "$push": {"acked": entry}})
            acks.append(time.perf_counter() - began)
            if i % SETTLED == SETTLED - 1:
                await db["poll_heads"].update_one({"_id": "r"}, {"$set": {"acked": []}})
        return percentile(finds, 0.5) * 1000, percentile(acks, 0.5) * 1000
    finally:
        await client.drop_database(db.name)
        await client.close()


async def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    namespaces = [f"b{uuid.uuid4().hex[:10]}" for _ in range(3)]
    try:
        async with SmtpCatcher() as smtp:
            async def polled(db: Any) -> int:
                return await db["poll_messages"].count_documents({})

            async def mailed(_: Any) -> int:
                return len(smtp.messages)

            only = os.environ.get("BENCH_ONLY", "")
            poll_rate = await run(namespaces[0], smtp.port, True, polled) if only in ("", "poll") else 0.0
            mail_rate = await run(namespaces[1], smtp.port, False, mailed) if only in ("", "mails") else 0.0
            rpc_rate, pairs, failures = await rpc(namespaces[2], smtp.port) if only in ("", "rpc") else (0.0, [], 0)
            find_ms = ack_ms = rtt_ms = 0.0
            if only in ("", "rpc"):
                find_ms, ack_ms = await store_part()
                rtt_ms = 1000 / await bare_rpc_rate(500)
    finally:
        for ns in namespaces:
            await delete_namespace(ns)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"MONGODB_URL={os.environ.get('MONGODB_URL', '-')}, prefetch {PREFETCH}")
    print(f"poll messages enqueued        {poll_rate:10.0f} /s   ({N} events, {REGISTRARS} registrars, poll on)")
    print(f"CPS mails delivered (SMTP)    {mail_rate:10.0f} /s   ({N} events, {REGISTRARS} registrars, poll off)")
    print(f"EPP poll req+ack pairs        {rpc_rate:10.1f} /s   ({RPC} pairs from one EPP session, one at a time)")
    print(f"req+ack pair p50 / p99 / max  {percentile(pairs, 0.5) * 1000:10.1f} / {percentile(pairs, 0.99) * 1000:.1f}"
          f" / {max(pairs, default=0) * 1000:.1f} ms   ({failures} pairs failed)")
    if only in ("", "rpc"):
        print(f"what bounds a pair, alone:     store {find_ms:.2f} ms (req's find) + {ack_ms:.2f} ms (ack's write),"
              f" broker {rtt_ms:.2f} ms per request/reply x 2: {find_ms + ack_ms + 2 * rtt_ms:.2f} ms, at most"
              f" {1000 / (find_ms + ack_ms + 2 * rtt_ms):.0f} pairs/s before EPP and the services' own work")
    figures: dict[str, float | None] = {}
    if only in ("", "poll"):
        figures["notifications.enqueued"] = poll_rate
    if only in ("", "mails"):
        figures["notifications.mails"] = mail_rate
    if only in ("", "rpc"):
        figures |= {"poll.pairs": rpc_rate, "poll.pair_p50_ms": percentile(pairs, 0.5) * 1000,
                    "poll.pair_p99_ms": percentile(pairs, 0.99) * 1000, "poll.store_find_ms": find_ms,
                    "poll.store_ack_ms": ack_ms, "poll.broker_rtt_ms": rtt_ms}
    emit(figures)


if __name__ == "__main__":
    asyncio.run(main())
