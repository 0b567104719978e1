"""The command layer: every registrar command, from EPP or the web, runs through `execute`.

Before the command's own rules, the registrar's standing is checked: its account is active, it is not
blocked by hitpoints, and the user has the permission the command needs. A command either succeeds
(its changes and events committed together in its unit of work, services/registry/uow) or is refused with
an EPP result code; every refusal is published as command.failed (hitpoints counts them).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import Counter

from services.registry.registrars.standing import STANDING_FIELDS, StandingCache
from services.registry.results import CommandRefused, Result
from services.registry.store import REGISTRARS, unit_of_work
from services.registry.uow import Tx
from services.registry.users.model import ALL_PERMISSIONS, Permission, User
from shared.clock import brussels
from shared.events import Channel, CommandFailed, CommandType, EventEnvelope, EventPayload, new_event
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
T = TypeVar("T")
# The registrar document check_standing read for the command running in this task, so the command's rules need
# not read it again (one round trip less per command); registrars/standing.py says what it holds.
_STANDING: ContextVar[dict[str, Any] | None] = ContextVar("standing_registrar", default=None)


def standing_registrar(registrar_id: str) -> dict[str, Any] | None:
    """The registrar as this command's standing check saw it (None outside a command or for another one)."""
    doc = _STANDING.get()
    return doc if doc is not None and doc.get("_id") == registrar_id else None


@dataclass(frozen=True)
class Actor:
    """Who sends a command, and through which door."""

    registrar_id: str
    user_id: str
    channel: Channel
    correlation_id: str
    permissions: frozenset[Permission] = field(default=ALL_PERMISSIONS)
    # EPP gives each command its svTRID up front, so that a refusal's command.failed carries it
    reference: str | None = None
    # the copy of its registrar's standing an EPP session or web request uses (registrars/standing.py); None: read
    # for each command
    standing: StandingCache | None = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.user_id == self.registrar_id

    @classmethod
    def of(cls, user: User, channel: Channel, correlation_id: str, standing: StandingCache | None = None) -> Actor:
        return cls(user.registrar_id, user.user_id, channel, correlation_id, user.permissions, standing=standing)

    def event(self, payload: EventPayload, ctx: ServiceContext) -> EventEnvelope[Any]:
        """An event caused by this actor's command, about its registrar."""
        return new_event(payload, registrar_id=self.registrar_id, correlation_id=self.correlation_id, clock=ctx.clock)


def new_reference(channel: Channel) -> str:
    return f"{channel.value.lower()}-{uuid.uuid4().hex[:16]}"


def command_metrics(ctx: ServiceContext) -> Counter:
    counter = ctx.extras.get("commands_counter")
    if counter is None:
        counter = ctx.extras["commands_counter"] = Counter(
            "registry_commands", "Registrar commands by type, channel and EPP result code",
            ["command", "channel", "result_code"], registry=ctx.metrics.registry,
        )
    return counter


async def check_standing(ctx: ServiceContext, actor: Actor, requires: Permission | None) -> None:
    """Refuse before the command's rules when the registrar or user may not act now."""
    def read() -> Awaitable[dict[str, Any] | None]:
        return unit_of_work(ctx)[REGISTRARS].find_one({"_id": actor.registrar_id}, STANDING_FIELDS)

    doc = await (actor.standing.get(ctx, actor.registrar_id, read) if actor.standing is not None else read())
    _STANDING.set(doc)
    if doc is None or doc["status"] != "ACTIVE":
        raise CommandRefused(
            Result.AUTHORIZATION_ERROR, f"registrar [{actor.registrar_id}] is not active", cause="registrar_inactive"
        )
    blocked_until: datetime | None = doc.get("blocked_until")
    if blocked_until is not None and blocked_until > ctx.clock.now():
        until = brussels(blocked_until).strftime("%Y-%m-%d %H:%M:%S %Z")
        raise CommandRefused(
            Result.DATA_MANAGEMENT_POLICY,
            f"registrar [{actor.registrar_id}] is blocked by the hitpoint system until {until}",
            cause="registrar_blocked",
        )
    if requires is not None and requires not in actor.permissions:
        raise CommandRefused(
            Result.AUTHORIZATION_ERROR, f"user [{actor.user_id}] lacks the permission {requires.value}",
            cause="permission",
        )


async def execute(
    ctx: ServiceContext,
    actor: Actor,
    command: CommandType,
    obj: str,
    run: Callable[[str], Awaitable[T]],
    *,
    requires: Permission | None = Permission.TRANSACTIONS,
    reference: str | None = None,
) -> T:
    """Run one command; `run` receives the transaction reference. Refusals are published, then re-raised."""
    reference = reference or actor.reference or new_reference(actor.channel)
    counter = command_metrics(ctx)
    try:
        await check_standing(ctx, actor, requires)
        result = await run(reference)
    except CommandRefused as refusal:
        if not refusal.published:  # a nested command already reported it
            counter.labels(command.value, actor.channel.value, str(int(refusal.result))).inc()
            await _publish_failure(ctx, actor, command, obj, reference, refusal)
        raise
    counter.labels(command.value, actor.channel.value, "1000").inc()
    return result


async def report_refusal(ctx: ServiceContext, actor: Actor, command: CommandType, obj: str,
                         refusal: CommandRefused) -> CommandRefused:
    """Publish a refusal that happened before the command layer ran (a transport's own checks of the input), so
    it counts like any other: command.failed, and hitpoints where the command scores. It goes through execute,
    so the registrar's standing is checked first, as for every command: a blocked registrar's bad input is
    refused (and published) as blocked, which scores nothing. Returns the refusal that stands."""
    if refusal.published:
        return refusal

    async def run(_: str) -> None:
        raise refusal

    try:
        await execute(ctx, actor, command, obj, run, requires=None)
    except CommandRefused as stands:
        return stands
    raise AssertionError("unreachable: run always raises")


async def _publish_failure(
    ctx: ServiceContext, actor: Actor, command: CommandType, obj: str, reference: str, refusal: CommandRefused
) -> None:
    event = actor.event(
        CommandFailed(
            user_id=actor.user_id,
            channel=actor.channel,
            command=command,
            object=obj[:255],
            reference=reference,
            result_code=int(refusal.result),
            message=refusal.message,
            cause=refusal.cause,
        ),
        ctx,
    )

    async def publish(tx: Tx) -> None:
        tx.publish([event])

    await unit_of_work(ctx).run(publish)
    refusal.published = True
    refusal.reference = reference
    log.info("command refused", extra={"command": command.value, "object": obj, "result_code": int(refusal.result)})
