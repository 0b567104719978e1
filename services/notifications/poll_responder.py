"""The poll request/reply endpoint (shared/poll_rpc.py): the registry's EPP server asks over the broker, the
answer goes back on the request's reply-to. Transport only: it translates and calls the application."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.rabbit import RabbitQueue
from pydantic import ValidationError

from services.notifications.service import notifications_of
from services.notifications.settings import NotificationsSettings
from shared.messaging.consumer import undecoded
from shared.poll_rpc import POLL_QUEUE, PollReply, PollRequest
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def poll_queue(settings: NotificationsSettings) -> RabbitQueue:
    # a request nobody answered within the TTL is dropped: the EPP server stopped waiting long before
    return RabbitQueue(settings._ns(POLL_QUEUE), durable=True,
                       arguments={"x-message-ttl": settings.poll_request_ttl_ms})


def register_poll_responder(ctx: ServiceContext) -> None:
    settings: NotificationsSettings = ctx.settings  # type: ignore[assignment]

    # the body as it came, not an injected RabbitMessage (which FastDepends resolves in a worker thread: a
    # thread hop per poll command). Acknowledged on delivery (no ack frame per command): a request is transient
    # and unconfirmed anyway, and one lost with this process is a timeout the EPP server answers with 2400, as
    # one lost with the broker is; redelivered, it could apply an ack whose answer nobody reads any more.
    @ctx.broker.subscriber(poll_queue(settings), decoder=undecoded, ack_policy=AckPolicy.ACK_FIRST,
                           title=f"{settings._ns(POLL_QUEUE)}:consume",
                           description="EPP poll req/ack for a registrar's queue (PollRequest -> PollReply)")
    async def on_poll(body: bytes) -> PollReply:
        try:
            request = PollRequest.model_validate_json(body)
        except ValidationError as exc:
            return PollReply(code=2001, message=f"malformed poll request: {exc.error_count()} error(s)")
        try:
            return await notifications_of(ctx).poll(request, channel="epp")
        except Exception:
            log.exception("poll %s for %s failed", request.op, request.registrar_id)
            return PollReply(code=2400, message="the poll queue is unavailable; try again")
