"""The hitpoints block, enforced by the command layer (commands.check_standing refuses a blocked registrar's
commands until blocked_until). The registry applies hitpoints' registrar.blocked / registrar.unblocked here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.registry.registrars.standing import changed
from services.registry.store import REGISTRARS
from services.registry.uow import Tx
from shared.events import EventEnvelope
from shared.events.hitpoints import RegistrarBlocked, RegistrarUnblocked
from shared.runtime import ServiceContext


def _newer_block_change(registrar_id: str | None, at: datetime) -> dict[str, Any]:
    """Blocks and unblocks apply in the order hitpoints decided them, not the order they arrive (a requeued or
    another replica's delivery may overtake): a change older than the one applied changes nothing (one of the
    same instant applies: a frozen test clock, or hitpoints deciding twice in one tick)."""
    return {"_id": registrar_id, "$or": [{"block_changed_at": {"$exists": False}}, {"block_changed_at": {"$lte": at}}]}


async def on_registrar_blocked(ctx: ServiceContext, event: EventEnvelope[RegistrarBlocked], tx: Tx) -> None:
    # this replica's EPP sessions read the standing again (registrars/standing.py), once it is committed: a bump
    # before would let a session read the old standing in between and keep it for EPP_STANDING_SECONDS
    tx.after_commit(lambda: changed(ctx, event.registrar_id))
    await tx[REGISTRARS].update_one(
        _newer_block_change(event.registrar_id, event.occurred_at),
        {"$set": {"blocked_until": event.payload.blocked_until, "blocked_since": event.payload.exceeded_at,
                  "block_changed_at": event.occurred_at}}
    )


async def on_registrar_unblocked(ctx: ServiceContext, event: EventEnvelope[RegistrarUnblocked], tx: Tx) -> None:
    tx.after_commit(lambda: changed(ctx, event.registrar_id))
    await tx[REGISTRARS].update_one(
        _newer_block_change(event.registrar_id, event.occurred_at),
        {"$unset": {"blocked_until": "", "blocked_since": ""}, "$set": {"block_changed_at": event.occurred_at}}
    )
