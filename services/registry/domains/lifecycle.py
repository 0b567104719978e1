"""The lifecycle job (digest 4.1-4.2): due deletions into quarantine, ended quarantines released, out-of-service
names whose time to move ended released, and client locks whose complaint went unanswered for 48 hours lifted.

  REGISTERED --delete (date)--> REGISTERED, deletion scheduled --date reached--> QUARANTINE (40 days)
  QUARANTINE --reactivate (deleting registrar, EUR 10)--> REGISTERED, exactly as before
  QUARANTINE --40 days--> released: the name is available again
  REGISTERED, out of service --2 months after the end of its expiry month--> released (special.py, digest 4.1)

One transaction per domain, each re-reading what it changes (an undelete may come in between). The job runs
on the injectable clock, under a lease so that one replica runs it at a time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from services.registry.domains.locks import due_complaints, lift_unanswered
from services.registry.domains.model import QUARANTINE, REGISTERED
from services.registry.domains.special import RELEASE_MONTHS_AFTER_EXPIRY_MONTH, release_due
from services.registry.settings import RegistrySettings
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.clock import brussels_month_start_after
from shared.events import new_event
from shared.events.domains import DomainQuarantined, DomainReleased
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def run_lifecycle(ctx: ServiceContext) -> dict[str, int]:
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    uow = unit_of_work(ctx)
    now = ctx.clock.now()
    counts = {"quarantined": 0, "released": 0, "locks_lifted": 0}
    due = await uow[DOMAINS].find({"status": REGISTERED, "delete_date": {"$lte": now}}, {"_id": 1}).to_list()
    for doc in due:
        available_on = now + timedelta(days=settings.quarantine_days)

        async def quarantine(tx: Tx, name: str = doc["_id"], available_on: datetime = available_on) -> bool:
            current = await tx[DOMAINS].find_one({"_id": name})
            if not current or current["status"] != REGISTERED or not current.get("delete_date") \
                    or current["delete_date"] > now:
                return False  # undeleted or rescheduled meanwhile
            await tx[DOMAINS].update_one(
                {"_id": name}, {"$set": {"status": QUARANTINE, "quarantined_at": now, "available_on": available_on}})
            tx.publish([new_event(DomainQuarantined(name=name, quarantined_at=now, available_on=available_on),
                                  registrar_id=current["registrar_id"], correlation_id=None, clock=ctx.clock)])
            return True

        # counted after the commit: a transaction the driver retries runs its callback again
        counts["quarantined"] += await uow.run(quarantine)
    ended = await uow[DOMAINS].find({"status": QUARANTINE, "available_on": {"$lte": now}}, {"_id": 1}).to_list()
    for doc in ended:
        async def release(tx: Tx, name: str = doc["_id"]) -> bool:
            current = await tx[DOMAINS].find_one({"_id": name})
            if not current or current["status"] != QUARANTINE or current["available_on"] > now:
                return False
            await tx[DOMAINS].delete_one({"_id": name})
            tx.publish([new_event(DomainReleased(name=name), registrar_id=current["registrar_id"],
                                  correlation_id=None, clock=ctx.clock)])
            return True

        counts["released"] += await uow.run(release)
    # expired before this cutoff: its release time has come (release_due decides exactly, in the transaction)
    cutoff = brussels_month_start_after(now, 1 - RELEASE_MONTHS_AFTER_EXPIRY_MONTH)
    unserved = await uow[DOMAINS].find(
        {"status": REGISTERED, "out_of_service_since": {"$exists": True}, "expires_at": {"$lt": cutoff}},
        {"_id": 1}).to_list()
    for doc in unserved:
        async def release_unserved(tx: Tx, name: str = doc["_id"]) -> bool:
            current = await tx[DOMAINS].find_one({"_id": name})
            if not current or not release_due(current, now):
                return False  # transferred, back in service or put on hold meanwhile
            await tx[DOMAINS].delete_one({"_id": name})
            # domain.released, as for an ended quarantine: publication sees the name become available, reporting
            # counts it as a delete (it went through no quarantine)
            tx.publish([new_event(DomainReleased(name=name), registrar_id=current["registrar_id"],
                                  correlation_id=None, clock=ctx.clock)])
            return True

        counts["released"] += await uow.run(release_unserved)
    for complaint_id in await due_complaints(ctx, now):
        async def lift(tx: Tx, complaint_id: str = complaint_id) -> bool:
            events = await lift_unanswered(ctx, tx, complaint_id, now)
            tx.publish(events)
            return bool(events)

        counts["locks_lifted"] += await uow.run(lift)
    if any(counts.values()):
        log.info("lifecycle: %(quarantined)d quarantined, %(released)d released, %(locks_lifted)d locks lifted "
                 "after unanswered complaints", counts)
    return counts


async def start_lifecycle(ctx: ServiceContext) -> None:
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]

    async def run() -> None:
        await run_lifecycle(ctx)

    start_periodic(ctx, "domain-lifecycle", settings.lifecycle_interval_seconds, leader=run)


async def stop_lifecycle(ctx: ServiceContext) -> None:
    await stop_periodic(ctx, "domain-lifecycle")
