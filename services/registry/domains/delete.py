"""Domain delete, undelete and reactivate (digest 4.2): a deletion is scheduled for a date; the lifecycle
job (domains/lifecycle.py) quarantines the domain then, and releases it 40 days later.

  (a name nobody holds: 2303; another registrar's: 2304, it does not belong to you)
  delete      the registrar's domain; no serverDeleteProhibited, not in quarantine, not on hold (2304); not
              already scheduled unless overwriteDeleteDate (2304).                Event: domain.deleted
  undelete    the registrar's domain, not in quarantine (2304), scheduled for deletion (2304).
                                                                                  Event: domain.undeleted
  reactivate  the registrar that deleted it, only in quarantine (2304), paid as a reactivation
              (2104); the domain comes back exactly as it was.    Events: domain.reactivated, the payment's
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.registry.commands import Actor, execute
from services.registry.domains.model import QUARANTINE, REGISTERED
from services.registry.domains.names import lookup_name
from services.registry.domains.rules import own_domain, refuse_if_prohibited
from services.registry.registrars.money import Charge, charge, registrar_lock
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.events import CommandType
from shared.events.domains import DomainDeleted, DomainReactivated, DomainUndeleted
from shared.events.money import TransactionKind
from shared.runtime import ServiceContext


async def delete_domain(ctx: ServiceContext, actor: Actor, name: str, delete_date: datetime | None,
                        overwrite: bool = False) -> datetime:
    """Schedule the deletion; a date in the past or today means as soon as the lifecycle job runs."""
    name = lookup_name(name)

    async def run(_: str) -> datetime:
        when = (delete_date or ctx.clock.now()).astimezone(UTC)

        async def work(tx: Tx) -> None:
            doc = await own_domain(tx, actor, name)
            refuse_if_prohibited(doc, "serverDeleteProhibited")
            if doc.get("on_hold"):  # a case is pending on it (digest 4.1; domains/special.py)
                raise CommandRefused(Result.STATUS_PROHIBITS, f"domain [{name}] has invalid status (on hold)")
            if doc.get("delete_date") and not overwrite:
                raise CommandRefused(Result.STATUS_PROHIBITS,
                                     f"Domain [{name}] is already scheduled for deletion (use overwriteDeleteDate)")
            await tx[DOMAINS].update_one({"_id": name}, {"$set": {"delete_date": when}})
            tx.publish([actor.event(DomainDeleted(name=name, delete_date=when), ctx)])

        await unit_of_work(ctx).run(work)
        return when

    return await execute(ctx, actor, CommandType.DEL_DOMAIN, name, run)


async def undelete_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def work(tx: Tx) -> None:
            doc = await own_domain(tx, actor, name)
            refuse_if_prohibited(doc)
            if not doc.get("delete_date"):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] is not scheduled for deletion")
            await tx[DOMAINS].update_one({"_id": name}, {"$unset": {"delete_date": ""}})
            tx.publish([actor.event(DomainUndeleted(name=name), ctx)])

        await unit_of_work(ctx).run(work)

    await execute(ctx, actor, CommandType.UNDELETE_DOMAIN, name, run)


async def reactivate_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    name = lookup_name(name)

    async def run(reference: str) -> None:
        async def work(tx: Tx) -> None:
            doc = await own_domain(tx, actor, name)
            if doc["status"] != QUARANTINE:
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] has invalid status (not in quarantine)")
            await tx[DOMAINS].update_one(
                {"_id": name}, {"$set": {"status": REGISTERED},
                                "$unset": {"delete_date": "", "quarantined_at": "", "available_on": ""}})
            charged = await charge(ctx, tx, actor.registrar_id,
                                   Charge(TransactionKind.REACTIVATION, name, reference), actor.correlation_id)
            tx.publish([actor.event(DomainReactivated(name=name), ctx), *charged])

        async with registrar_lock(ctx, actor.registrar_id):
            await unit_of_work(ctx).run(work)

    await execute(ctx, actor, CommandType.REACTIVATE_DOMAIN, name, run)
