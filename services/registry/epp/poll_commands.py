"""EPP poll (RFC 5730 2.9.2.3): the registrar's queue lives in the notifications service; this side
asks over the broker (shared/poll_rpc.py) once the registrar's poll switch allows it
(services/registry/registrars/epp_access.py)."""

from __future__ import annotations

import time
from datetime import datetime

from services.registry.commands import Actor
from services.registry.epp.ns import DNSBE, element, stamp, sub
from services.registry.epp.reply import Reply
from services.registry.epp.xml import Command
from services.registry.registrars.epp_access import require_poll
from services.registry.results import CommandRefused, Result
from shared.poll_rpc import POLL_QUEUE, PollClient, PollRequest
from shared.runtime import ServiceContext

TIMEOUT_SECONDS = 5.0
# how long a replica trusts that a registrar's poll switch is on without reading it again (a round trip saved on
# nearly every poll command): switched off, poll is refused by every replica at most this much later
POLL_SWITCH_SECONDS = 1.0


def poll_client(ctx: ServiceContext) -> PollClient:
    """The process's one poll client (a long-lived reply consumer); closed with the EPP server."""
    client = ctx.extras.get("poll_client")
    if client is None:
        client = ctx.extras["poll_client"] = PollClient(ctx.settings.amqp_url, ctx.settings._ns(POLL_QUEUE))
    return client


async def require_poll_on(ctx: ServiceContext, actor: Actor) -> None:
    """require_poll, read at most once per POLL_SWITCH_SECONDS per registrar and process (only "on" is kept)."""
    checked: dict[str, float] = ctx.extras.setdefault("poll_switch_on", {})
    if checked.get(actor.registrar_id, 0.0) > time.monotonic():
        return
    await require_poll(ctx, actor)
    checked[actor.registrar_id] = time.monotonic() + POLL_SWITCH_SECONDS


async def poll(ctx: ServiceContext, actor: Actor, cmd: Command) -> Reply:
    await require_poll_on(ctx, actor)
    command = cmd.element
    request = PollRequest(registrar_id=actor.registrar_id, op=command.get("op", "req"), msg_id=command.get("msgID"))
    if request.op == "ack" and not request.msg_id:
        raise CommandRefused(Result.REQUIRED_PARAMETER_MISSING, "poll ack needs msgID")
    try:
        # the request expires in the broker when this side stops waiting: an ack the client was told failed
        # is then not applied later by a slow or restarting notifications service (a race of the few ms
        # between its consuming and its answering remains; the client's retried ack then gets 2303)
        reply = await poll_client(ctx).ask(request, TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise CommandRefused(Result.COMMAND_FAILED, "the poll service did not answer; try again") from exc
    if reply.code >= 2000:
        raise CommandRefused(Result(reply.code), reply.message or "poll failed")
    if reply.head is None:
        return Reply(code=Result(reply.code), message=reply.message,
                     msgq=(reply.count, reply.acked_id) if reply.acked_id else None)
    head = reply.head
    data = element(DNSBE, "pollRes")
    for key, value in head.fields.items():
        sub(data, DNSBE, key, stamp(value) if isinstance(value, datetime) else str(value))
    return Reply(code=Result(reply.code), message=reply.message, res_data=data,
                 msgq=(reply.count, head.msg_id), poll_message=(stamp(head.queued_at), head.text, head.language))
