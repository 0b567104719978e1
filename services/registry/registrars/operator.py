"""What registry operators do to a registrar's account (the operator API; operators act outside the registrar
command layer, each command in its own unit of work).

  create            an active registrar at once (the onboarding flow goes through applications)
                    - registrars/create.py                              Events: registrar.created, user.created
  official address  the registrar's official address (only operators change it)       Event: registrar.updated
  prepayment        a positive amount (2004) on an existing registrar (2303)           Event: prepayment.received
  status            suspend or reactivate: the registrar exists (2303); a pending registrar becomes ACTIVE
                    only by its own activation (2304), none is put back to pending (2306)
                                                                                       Event: registrar.updated
  lock function     withdraw (or give back) the right to set clientTransferProhibited; withdrawing lifts the
                    registrar's existing client locks         Events: registrar.updated, domain.unlocked ...
"""

from __future__ import annotations

from typing import Any

from services.registry.domains.locks import lift_all_client_locks
from services.registry.registrars import money
from services.registry.registrars.create import NewRegistrar, insert_registrar
from services.registry.registrars.model import OfficialAddress, RegistrarStatus
from services.registry.registrars.onboarding import require_status_change
from services.registry.registrars.profile import get_registrar, public_view, update_section
from services.registry.registrars.standing import changed
from services.registry.store import REGISTRARS, unit_of_work
from services.registry.uow import Tx
from shared.events import EventEnvelope, new_event
from shared.events.registrars import RegistrarUpdated
from shared.runtime import ServiceContext


def _updated(ctx: ServiceContext, registrar_id: str, section: str, changes: dict[str, Any],
             correlation_id: str) -> EventEnvelope[Any]:
    return new_event(RegistrarUpdated(section=section, changes=changes, by_operator=True),
                     registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock)


async def create_registrar(ctx: ServiceContext, new: NewRegistrar, correlation_id: str) -> dict[str, Any]:
    async def work(tx: Tx) -> None:
        tx.publish(await insert_registrar(ctx, tx, new, RegistrarStatus.ACTIVE, correlation_id))

    await unit_of_work(ctx).run(work)
    return {"registrar_id": new.registrar_id, "status": RegistrarStatus.ACTIVE}


async def show_registrar(ctx: ServiceContext, registrar_id: str) -> dict[str, Any]:
    return public_view(await get_registrar(unit_of_work(ctx), registrar_id))


async def set_official_address(ctx: ServiceContext, registrar_id: str, address: OfficialAddress,
                               correlation_id: str) -> None:
    async def work(tx: Tx) -> None:
        tx.publish(await update_section(ctx, tx, registrar_id, "official_address", address, correlation_id,
                                        by_operator=True))

    await unit_of_work(ctx).run(work)


async def book_prepayment(ctx: ServiceContext, registrar_id: str, amount_cents: int, reference: str,
                          correlation_id: str) -> int:
    """Returns the new balance."""

    async def work(tx: Tx) -> int:
        events = await money.book_prepayment(ctx, tx, registrar_id, amount_cents, reference, correlation_id)
        tx.publish(events)
        return int(events[-1].payload.balance_cents)

    return await unit_of_work(ctx).run(work)


async def set_status(ctx: ServiceContext, registrar_id: str, status: RegistrarStatus, correlation_id: str) -> None:
    async def work(tx: Tx) -> None:
        current = await get_registrar(tx, registrar_id)
        require_status_change(registrar_id, current["status"], status)
        await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {"status": status.value}})
        tx.publish([_updated(ctx, registrar_id, "status", {"status": status.value}, correlation_id)])

    changed(ctx, registrar_id)  # this replica's EPP sessions read the standing again (registrars/standing.py) ...
    await unit_of_work(ctx).run(work)
    changed(ctx, registrar_id)  # ... and not a copy read while the change was being committed


async def set_lock_function(ctx: ServiceContext, registrar_id: str, enabled: bool, correlation_id: str) -> None:
    async def work(tx: Tx) -> None:
        await get_registrar(tx, registrar_id)
        await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {"lock_function": enabled}})
        lifted = [] if enabled else await lift_all_client_locks(ctx, tx, registrar_id, correlation_id)
        tx.publish([_updated(ctx, registrar_id, "lock_function", {"enabled": enabled}, correlation_id), *lifted])

    await unit_of_work(ctx).run(work)


async def list_registrars(ctx: ServiceContext, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The registrars the staff pages list (by id), optionally of one status."""
    query = {"status": status} if status else {}
    fields = {"name": 1, "status": 1, "lock_function": 1, "blocked_until": 1, "products": 1}
    docs = await unit_of_work(ctx)[REGISTRARS].find(query, fields).sort("_id", 1).limit(limit).to_list()
    return [public_view(d) for d in docs]
