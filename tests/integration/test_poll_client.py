"""The EPP side's poll client (shared/poll_rpc.py) on the real broker: one reply consumer for the process,
replies matched to their requests by correlation id also when many are in flight at once, and a request
nobody answers is a timeout whose message expires in the queue instead of being acted on later."""

import asyncio
import random

import aio_pika

from services.notifications.app import build as build_notifications
from services.notifications.settings import NotificationsSettings
from shared.poll_rpc import POLL_QUEUE, PollClient, PollReply, PollRequest
from tests.integration.infra import AMQP_URL, eventually, queue_depth, running


async def test_concurrent_requests_each_get_their_own_reply(namespace: str) -> None:
    queue_name = f"{namespace}.poll-test"
    connection = await aio_pika.connect(AMQP_URL)
    client = PollClient(AMQP_URL, queue_name)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, auto_delete=True)

        async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            request = PollRequest.model_validate_json(message.body)
            await asyncio.sleep(random.uniform(0, 0.05))  # replies go back out of order
            reply = PollReply(code=1000, message=request.registrar_id)
            await channel.default_exchange.publish(
                aio_pika.Message(reply.model_dump_json().encode(), correlation_id=message.correlation_id),
                routing_key=message.reply_to or "", mandatory=False)

        await queue.consume(answer, no_ack=True)
        try:
            asked = [f"r{i:03d}" for i in range(30)]
            replies = await asyncio.gather(*(client.ask(PollRequest(registrar_id=r, op="req"), timeout=10)
                                             for r in asked))
            assert [r.message for r in replies] == asked
            assert client._waiting == {}  # nothing left behind
        finally:
            await client.close()


async def test_an_unanswered_request_times_out_and_expires_in_the_queue(namespace: str) -> None:
    queue_name = f"{namespace}.poll-silent"
    connection = await aio_pika.connect(AMQP_URL)
    client = PollClient(AMQP_URL, queue_name)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue_name, auto_delete=False)
        try:
            started = asyncio.get_running_loop().time()
            try:
                await client.ask(PollRequest(registrar_id="r1", op="ack", msg_id="m1"), timeout=0.5)
                raise AssertionError("a request nobody answered returned")
            except TimeoutError:
                pass
            assert asyncio.get_running_loop().time() - started < 3
            # the ack was not applied by anyone and never will be: it left the queue with its expiration
            await eventually(lambda: queue_depth(queue_name), lambda n: n == 0, timeout=10)
        finally:
            await client.close()
            await channel.queue_delete(queue_name)


async def test_the_responder_answers_again_after_its_broker_connection_dropped(namespace: str) -> None:
    """The notifications side's poll consumer (services/notifications/poll_responder.py, on a robust channel of the
    broker's connection) is restored when that connection drops and reconnects: the next request is answered.
    The connection is cut under the process, not by restarting the shared broker."""
    settings = NotificationsSettings(namespace=namespace, log_level="WARNING", gauges_interval_seconds=3600)
    app = build_notifications(settings)
    client = PollClient(AMQP_URL, settings._ns(POLL_QUEUE))
    async with running(app):
        ctx = app.state.ctx
        try:
            assert (await client.ask(PollRequest(registrar_id="r1", op="req"), timeout=10)).code == 1300
            connection = ctx.broker._connection
            assert connection is not None
            reconnected = asyncio.Event()
            connection.reconnect_callbacks.add(lambda *_: reconnected.set())
            # the AMQP connection underneath closes as on a network error (not as the application closing it)
            await connection.transport.connection.close(ConnectionResetError("cut by the test"))  # type: ignore[union-attr]
            await asyncio.wait_for(reconnected.wait(), 30)

            async def answered() -> int:
                try:
                    return (await client.ask(PollRequest(registrar_id="r1", op="req"), timeout=2)).code
                except TimeoutError:
                    return 0

            await eventually(answered, lambda code: code == 1300, timeout=30)
        finally:
            await client.close()
