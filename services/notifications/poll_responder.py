"""The poll request/reply endpoint (shared/poll_rpc.py): the registry's EPP server asks over the broker, the
answer goes back on the request's reply-to. Transport only: it translates and calls the application.

A plain aio-pika consumer, not a FastStream subscriber: FastStream's per-message path (middlewares, its
dependency injection, its own encoding of the reply) cost about as much CPU as the poll itself, and it
answered one request at a time per process. The consumer is on a robust channel of the broker's connection (as
the events queue is, shared/runtime.py), so it is restored with the connection after a broker restart."""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from faststream.rabbit import RabbitQueue
from faststream.rabbit.schemas import Channel
from pydantic import ValidationError

from services.notifications.service import notifications_of
from services.notifications.settings import NotificationsSettings
from shared.poll_rpc import POLL_QUEUE, PollReply, PollRequest
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def poll_queue(settings: NotificationsSettings) -> RabbitQueue:
    # a request nobody answered within the TTL is dropped: the EPP server stopped waiting long before
    return RabbitQueue(settings._ns(POLL_QUEUE), durable=True,
                       arguments={"x-message-ttl": settings.poll_request_ttl_ms})


async def answer(ctx: ServiceContext, body: bytes) -> PollReply:
    """The reply to one request body (PollRequest as JSON)."""
    try:
        request = PollRequest.model_validate_json(body)
    except ValidationError as exc:
        return PollReply(code=2001, message=f"malformed poll request: {exc.error_count()} error(s)")
    try:
        return await notifications_of(ctx).poll(request, channel="epp")
    except Exception:
        log.exception("poll %s for %s failed", request.op, request.registrar_id)
        return PollReply(code=2400, message="the poll queue is unavailable; try again")


class PollResponder:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None

    async def start(self) -> None:
        settings: NotificationsSettings = self.ctx.settings  # type: ignore[assignment]
        spec = poll_queue(settings)
        self._channel = await self.ctx.broker.config.channel_manager.get_channel(
            Channel(publisher_confirms=False))
        self._queue = await self._channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
        # acknowledged on delivery (no_ack: no ack frame, a socket write, per request): a request is transient
        # and unconfirmed anyway, and one lost with this process is a timeout the EPP server answers with 2400, as
        # one lost with the broker is; redelivered, it could apply an ack whose answer nobody reads any more.
        # Requests in progress at once are as many as EPP sessions waiting (each asks one at a time)
        self._tag = await self._queue.consume(self._on_request, no_ack=True)
        # the subscription in the service's AsyncAPI document: registered after the broker started, so FastStream
        # documents it but never consumes with it (as the events queue, shared/runtime.py)
        self.ctx.broker.subscriber(spec, title=f"{spec.name}:consume",
                                   description="EPP poll req/ack for a registrar's queue (PollRequest -> PollReply)"
                                   )(_documented)

    async def stop(self) -> None:
        if self._queue is not None and self._tag is not None:
            try:
                await self._queue.cancel(self._tag)
            except Exception as exc:  # the broker is away: the consumer went with the connection
                log.warning("poll responder not cancelled: %s", exc)
        self._queue = self._tag = None

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        reply = await answer(self.ctx, message.body)
        if not message.reply_to or self._channel is None:
            return
        try:
            await self._channel.default_exchange.publish(
                aio_pika.Message(reply.model_dump_json().encode(), content_type="application/json",
                                 correlation_id=message.correlation_id,
                                 delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT),
                routing_key=message.reply_to, mandatory=False)
        except (aio_pika.exceptions.AMQPError, ConnectionError) as exc:
            # the EPP server times out and answers 2400; an ack applied here stays applied (the client's retry
            # gets 2303)
            log.warning("poll reply for %s not sent: %s", message.correlation_id, exc)


async def _documented(body: bytes) -> PollReply:
    """The AsyncAPI entry of the poll queue (PollResponder consumes it)."""
    raise NotImplementedError


async def start_poll_responder(ctx: ServiceContext) -> None:
    responder = ctx.extras["poll_responder"] = PollResponder(ctx)
    await responder.start()


async def stop_poll_responder(ctx: ServiceContext) -> None:
    responder: PollResponder | None = ctx.extras.pop("poll_responder", None)
    if responder is not None:
        await responder.stop()
