"""The poll request/reply between the EPP server (registry) and the poll queues (notifications), over
RabbitMQ with direct reply-to: the notifications service owns each registrar's queue, EPP only asks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Literal

import aio_pika
from pydantic import BaseModel, ConfigDict, Field

POLL_QUEUE = "notifications.poll"


class PollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registrar_id: str
    op: Literal["req", "ack"]
    msg_id: str | None = None


class PollMessage(BaseModel):
    """The oldest message: what <msgQ> and <resData> carry."""

    msg_id: str
    queued_at: datetime
    text: str = Field(description="the short <msg> text in the registrar's language")
    fields: dict[str, Any] = Field(default_factory=dict, description="the dnsbe:pollRes fields, in order")
    # optional (added later): the language of `text`, the <msgQ><msg lang> attribute
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")


class PollReply(BaseModel):
    code: int = Field(description="1300 empty, 1301 a message, 1000 ack done, 2303 unknown id")
    message: str | None = None
    count: int = 0
    head: PollMessage | None = None
    acked_id: str | None = None


class PollClient:
    """The EPP side of the poll request/reply, set up once per process: one channel consumes RabbitMQ's direct
    reply-to pseudo-queue for the life of the process, and each request only publishes and waits for the reply
    with its correlation id. (FastStream's `broker.request` consumes and cancels per request under a process-wide
    lock: two broker round trips of set-up per command, and one command at a time.)

    Requests are transient and unconfirmed: one lost with a broker failure is a timeout, which the EPP server
    answers with 2400 as before; each carries an expiration, so nobody acts on it after the caller gave up."""

    REPLY_TO = "amq.rabbitmq.reply-to"

    def __init__(self, amqp_url: str, queue: str) -> None:
        self.amqp_url, self.queue = amqp_url, queue
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._waiting: dict[str, asyncio.Future[bytes]] = {}
        self._ready = asyncio.Lock()

    async def _open(self) -> aio_pika.abc.AbstractChannel:
        async with self._ready:
            if self._channel is None:
                # robust: after a broker restart aio-pika reopens the channel and consumes reply-to again
                self._connection = await aio_pika.connect_robust(self.amqp_url, client_properties={
                    "connection_name": f"poll-client {self.queue}"})
                channel = await self._connection.channel(publisher_confirms=False)
                replies = await channel.declare_queue(self.REPLY_TO, passive=True)
                await replies.consume(self._on_reply, no_ack=True)
                self._channel = channel
            return self._channel

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        waiting = self._waiting.pop(message.correlation_id or "", None)
        if waiting is not None and not waiting.done():
            waiting.set_result(message.body)

    async def ask(self, request: PollRequest, timeout: float) -> PollReply:
        """Send one request and wait for its reply; TimeoutError when none came within `timeout` seconds."""
        # asyncio.timeout, not wait_for: no task made per await (the channel is open but for the first request)
        async with asyncio.timeout(timeout):
            channel = self._channel or await self._open()
            correlation_id = uuid.uuid4().hex
            reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self._waiting[correlation_id] = reply
            try:
                await channel.default_exchange.publish(
                    aio_pika.Message(request.model_dump_json().encode(), content_type="application/json",
                                     correlation_id=correlation_id, reply_to=self.REPLY_TO, expiration=timeout,
                                     delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT),
                    routing_key=self.queue, mandatory=False)
                return PollReply.model_validate_json(await reply)
            finally:
                self._waiting.pop(correlation_id, None)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._channel = None
