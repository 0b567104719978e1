"""A broker restart in the middle of a stream of notifications loses no poll message or mail and
duplicates none: events wait in the publisher's outbox while RabbitMQ is down, unacknowledged deliveries
come back and are applied once, and each mail is sent once to a real SMTP server on loopback."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.notifications.app import build as build_notifications
from shared.clock import SystemClock
from shared.events import EventEnvelope, new_event
from shared.events.hitpoints import HitpointsThresholdReached
from shared.events.registrars import RegistrarCreated
from shared.mongo.outbox import Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext
from tests.integration.infra import eventually, running
from tests.integration.smtp_server import SmtpCatcher
from tests.integration.test_broker_restart import rabbitmqctl
from tests.integration.test_notifications import notifications_settings

POLLING, MAILED = "rpoll0001", "rcps00001"
AUTOMATED = "epp@cps-registrar.example"


def event(payload: Any, registrar_id: str) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=SystemClock())


def warning(i: int, registrar_id: str) -> EventEnvelope[Any]:
    return event(HitpointsThresholdReached(percent=1 + i % 100, hitpoints=i, limit=1000,
                                           reached_at=datetime.now(UTC)), registrar_id)


async def test_a_broker_restart_mid_stream_loses_and_duplicates_no_notification(namespace: str) -> None:
    async with SmtpCatcher() as smtp:
        app = build_notifications(notifications_settings(namespace, smtp.port))
        async with running(app):
            ctx: ServiceContext = app.state.ctx
            db = ctx.client[f"{namespace}_publisher"]
            outbox = Outbox(db)
            relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="test", batch_size=50, poll_seconds=0.1)
            relay_task = asyncio.create_task(relay.run())

            async def commit(events: Sequence[EventEnvelope[Any]]) -> None:
                for e in events:
                    async def work(session: AsyncClientSession, e: EventEnvelope[Any] = e) -> None:
                        await outbox.add([e], session)

                    await in_transaction(ctx.client, work)
                    relay.wake()

            def stream(start: int, n: int) -> list[EventEnvelope[Any]]:
                return [warning(i, POLLING if i % 2 else MAILED) for i in range(start, start + n)]

            async def delivered() -> tuple[int, int, int]:
                polled = await ctx.db["poll_messages"].count_documents({"registrar_id": POLLING})
                sent = await ctx.db["mails"].count_documents({"to": AUTOMATED, "status": "sent"})
                return polled, sent, len(smtp.to(AUTOMATED))

            try:
                await commit([
                    event(RegistrarCreated(name="Polls", products=["be"], languages=["nl"], email="info@poll.example",
                                           automated_email="epp@poll.example", poll=True), POLLING),
                    event(RegistrarCreated(name="Mails", products=["be"], languages=["fr", "en"],
                                           email="info@cps-registrar.example", automated_email=AUTOMATED, poll=False),
                          MAILED),
                ])
                await commit(stream(0, 60))
                await asyncio.to_thread(rabbitmqctl, "stop_app")
                await commit(stream(60, 60))  # the broker is down: these wait in the outbox
                assert await outbox.collection.count_documents({}) > 0
                await asyncio.to_thread(rabbitmqctl, "start_app")
                await asyncio.to_thread(rabbitmqctl, "await_startup")
                await commit(stream(120, 60))
                assert await eventually(delivered, lambda d: min(d) >= 90, timeout=180) == (90, 90, 90)
                await asyncio.sleep(2.0)  # late redeliveries would show up here
                assert await delivered() == (90, 90, 90)
                assert await outbox.collection.count_documents({}) == 0
                subjects = {m["Subject"] for m in smtp.to(AUTOMATED)}
                assert all("limite de hitpoints" in s for s in subjects)  # the registrar's first language: fr
            finally:
                await asyncio.to_thread(rabbitmqctl, "start_app")  # never leave the broker down
                await relay.stop()
                relay_task.cancel()
