"""A broker restart in the middle of a stream loses no event and applies none twice: the relay keeps
events in the outbox until RabbitMQ confirms them again, and the consumer reconnects by itself."""

import asyncio
import shutil
import subprocess

from pymongo.asynchronous.client_session import AsyncClientSession

from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.mongo.outbox import Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, eventually, running
from tests.integration.test_exactly_once import domain_created


def rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl")
    if tool is None:
        raise RuntimeError("this test restarts the local RabbitMQ and needs rabbitmqctl (make test provides it)")
    subprocess.run([tool, *args], check=True, capture_output=True, timeout=120)


async def test_a_broker_restart_mid_stream_loses_nothing_and_duplicates_nothing(namespace: str) -> None:
    app = build_reporting(ReportingSettings(namespace=namespace, operator_token="operator-dev-token"))
    async with running(app) as reporting:
        ctx: ServiceContext = app.state.ctx
        db = ctx.client[f"{namespace}_publisher"]
        outbox = Outbox(db)
        relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="test", batch_size=50, poll_seconds=0.1)
        relay_task = asyncio.create_task(relay.run())

        async def commit(prefix: str, n: int) -> None:
            for i in range(n):
                async def work(session: AsyncClientSession, i: int = i) -> None:
                    await outbox.add([domain_created(f"{prefix}-{i}.be")], session)

                await in_transaction(ctx.client, work)
                relay.wake()

        async def counted() -> int:
            return (await reporting.get("/api/portfolios/a100001", headers=OPERATOR)).json()["domains"]

        try:
            await commit("before", 100)
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            await commit("during", 100)  # the broker is down: these wait in the outbox
            assert await outbox.collection.count_documents({}) > 0
            await asyncio.to_thread(rabbitmqctl, "start_app")
            await asyncio.to_thread(rabbitmqctl, "await_startup")
            await commit("after", 100)
            assert await eventually(counted, lambda n: n >= 300, timeout=120) == 300
            await asyncio.sleep(1.0)
            assert await counted() == 300
            assert await outbox.collection.count_documents({}) == 0
        finally:
            await asyncio.to_thread(rabbitmqctl, "start_app")  # never leave the broker down
            await relay.stop()
            relay_task.cancel()
