"""The command layer: every registrar command, from EPP or the web, runs through `execute`.

A command either succeeds (its changes and events committed together through the outbox) or is
refused with an EPP result code; every refusal is published as command.failed (hitpoints counts them).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.results import CommandRefused
from shared.events import Channel, CommandFailed, CommandType, new_event
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who sends a command, and through which door."""

    registrar_id: str
    user_id: str
    channel: Channel
    correlation_id: str


def new_reference(channel: Channel) -> str:
    return f"{channel.value.lower()}-{uuid.uuid4().hex[:16]}"


async def execute(
    ctx: ServiceContext,
    actor: Actor,
    command: CommandType,
    obj: str,
    run: Callable[[str], Awaitable[T]],
    reference: str | None = None,
) -> T:
    """Run one command; `run` receives the transaction reference. Refusals are published, then re-raised."""
    reference = reference or new_reference(actor.channel)
    try:
        result = await run(reference)
    except CommandRefused as refusal:
        await _publish_failure(ctx, actor, command, obj, reference, refusal)
        raise
    ctx.committed()
    return result


async def _publish_failure(
    ctx: ServiceContext, actor: Actor, command: CommandType, obj: str, reference: str, refusal: CommandRefused
) -> None:
    event = new_event(
        CommandFailed(
            user_id=actor.user_id,
            channel=actor.channel,
            command=command,
            object=obj,
            reference=reference,
            result_code=int(refusal.result),
            message=refusal.message,
        ),
        registrar_id=actor.registrar_id,
        correlation_id=actor.correlation_id,
        clock=ctx.clock,
    )

    async def work(session: AsyncClientSession) -> None:
        await ctx.outbox.add([event], session)

    await in_transaction(ctx.client, work)
    ctx.committed()
    log.info("command refused", extra={"command": command.value, "object": obj, "result_code": int(refusal.result)})
