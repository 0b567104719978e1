"""A domain after its creation: update, delete with a delete date, undelete, quarantine, reactivate,
release (digest 4.1-4.2); the job also lifts client locks whose complaint went unanswered for 48 hours.

  REGISTERED --delete (date)--> REGISTERED, deletion scheduled --date reached--> QUARANTINE (40 days)
  QUARANTINE --reactivate (deleting registrar, EUR 10)--> REGISTERED, exactly as before
  QUARANTINE --40 days--> released: the name is available again

A registrar touches only its own domains (another's is refused as not its own, 2304). Server locks refuse what
they name (2304). The lifecycle job runs on the injectable clock, under a lease so that one replica
runs it at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.commands import Actor, commit, execute
from services.registry.contacts import ContactType, require_roles
from services.registry.domains import DOMAINS, HostAttr, check_glue
from services.registry.groups import require_groups
from services.registry.locks import due_complaints, lift_unanswered, own_domain
from services.registry.money import Charge, charge, registrar_lock
from services.registry.names import lookup_name
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from shared.events import CommandType, EventEnvelope, new_event
from shared.events.domains import (
    DomainDeleted,
    DomainQuarantined,
    DomainReactivated,
    DomainReleased,
    DomainUndeleted,
    DomainUpdated,
)
from shared.events.money import TransactionKind
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction
from shared.periodic import start_periodic, stop_periodic
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
LIFECYCLE_INDEXES = (
    CollectionIndexes(DOMAINS, (IndexModel([("status", ASCENDING), ("delete_date", ASCENDING)]),
                                IndexModel([("status", ASCENDING), ("available_on", ASCENDING)]))),
)


def _refuse_if(doc: dict[str, Any], *server_statuses: str, quarantined: bool = True) -> None:
    for status in server_statuses:
        if status in doc.get("statuses", []):
            raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{doc['_id']}] has invalid status ({status})")
    if quarantined and doc["status"] == "QUARANTINE":
        raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{doc['_id']}] has invalid status (quarantine)")


@dataclass(frozen=True)
class DomainChanges:
    """An update as EPP states it: what to add and what to remove (RFC 5731 domain:add / domain:rem)."""

    add_hosts: tuple[HostAttr, ...] = ()
    rem_hosts: tuple[str, ...] = ()
    add_contacts: tuple[tuple[str, str], ...] = ()  # (tech|onsite, alias)
    rem_contacts: tuple[tuple[str, str], ...] = ()
    add_nsgroups: tuple[str, ...] = ()
    rem_nsgroups: tuple[str, ...] = ()
    add_keygroups: tuple[str, ...] = ()
    rem_keygroups: tuple[str, ...] = ()

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        hosts = {h["name"]: HostAttr(**h) for h in doc.get("name_servers", []) if h["name"] not in self.rem_hosts}
        hosts |= {h.name: h for h in self.add_hosts}

        def merged(current: list[str], add: tuple[str, ...], rem: tuple[str, ...]) -> list[str]:
            kept = [x for x in current if x not in rem]
            return kept + [x for x in add if x not in kept]

        return {
            "tech": merged(doc.get("tech", []), tuple(a for k, a in self.add_contacts if k == "tech"),
                           tuple(a for k, a in self.rem_contacts if k == "tech")),
            "onsite": merged(doc.get("onsite", []), tuple(a for k, a in self.add_contacts if k == "onsite"),
                             tuple(a for k, a in self.rem_contacts if k == "onsite")),
            "name_servers": list(hosts.values()),
            "nsgroups": merged(doc.get("nsgroups", []), self.add_nsgroups, self.rem_nsgroups),
            "keygroups": merged(doc.get("keygroups", []), self.add_keygroups, self.rem_keygroups),
        }


async def update_domain(
    ctx: ServiceContext, actor: Actor, name: str, *, tech: list[str], onsite: list[str],
    name_servers: list[HostAttr], nsgroups: list[str], keygroups: list[str],
) -> dict[str, Any]:
    """Replace the domain's tech/onsite contacts, name servers and groups (the registrant changes only
    through a transfer)."""
    values = {"tech": tech, "onsite": onsite, "name_servers": name_servers, "nsgroups": nsgroups,
              "keygroups": keygroups}
    return await _update(ctx, actor, name, lambda _: values)


async def change_domain(ctx: ServiceContext, actor: Actor, name: str, changes: DomainChanges) -> dict[str, Any]:
    """Add to and remove from the domain's current values (EPP update)."""
    return await _update(ctx, actor, name, changes.apply)


async def _update(ctx: ServiceContext, actor: Actor, name: str,
                  new_values: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    name = lookup_name(name)

    async def run(_: str) -> dict[str, Any]:
        result: list[dict[str, Any]] = []

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await own_domain(ctx, actor, name, session)
            _refuse_if(doc, "serverUpdateProhibited")
            wanted = new_values(doc)
            tech, onsite, hosts = list(wanted["tech"]), list(wanted["onsite"]), list(wanted["name_servers"])
            groups, keys = sorted(set(wanted["nsgroups"])), sorted(set(wanted["keygroups"]))
            check_glue(name, hosts)
            roles = {ContactType.REGISTRANT: [doc["registrant"]], ContactType.TECH: tech, ContactType.ONSITE: onsite}
            await require_roles(ctx, session, actor.registrar_id, roles)
            await require_groups(ctx, session, actor.registrar_id, groups, keys)
            values = {
                "tech": tech, "onsite": onsite, "name_servers": [h.model_dump() for h in hosts],
                "nsgroups": groups, "keygroups": keys,
                "contacts": sorted({c for aliases in roles.values() for c in aliases}),
            }
            await ctx.db[DOMAINS].update_one({"_id": name}, {"$set": values}, session=session)
            result.append(doc | values)
            return [actor.event(DomainUpdated(name=name, tech=tech, onsite=onsite,
                                              name_servers=[h.name for h in hosts], nsgroups=groups,
                                              keygroups=keys), ctx)]

        await commit(ctx, unit)
        return result[-1]

    return await execute(ctx, actor, CommandType.UPD_DOMAIN, name, run)


async def delete_domain(ctx: ServiceContext, actor: Actor, name: str, delete_date: datetime | None,
                        overwrite: bool = False) -> datetime:
    """Schedule the deletion; a date in the past or today means as soon as the lifecycle job runs."""
    name = lookup_name(name)

    async def run(_: str) -> datetime:
        when = (delete_date or ctx.clock.now()).astimezone(UTC)

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await own_domain(ctx, actor, name, session)
            _refuse_if(doc, "serverDeleteProhibited")
            if doc.get("delete_date") and not overwrite:
                raise CommandRefused(Result.STATUS_PROHIBITS,
                                     f"Domain [{name}] is already scheduled for deletion (use overwriteDeleteDate)")
            await ctx.db[DOMAINS].update_one({"_id": name}, {"$set": {"delete_date": when}}, session=session)
            return [actor.event(DomainDeleted(name=name, delete_date=when), ctx)]

        await commit(ctx, unit)
        return when

    return await execute(ctx, actor, CommandType.DEL_DOMAIN, name, run)


async def undelete_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await own_domain(ctx, actor, name, session)
            _refuse_if(doc)
            if not doc.get("delete_date"):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] is not scheduled for deletion")
            await ctx.db[DOMAINS].update_one({"_id": name}, {"$unset": {"delete_date": ""}}, session=session)
            return [actor.event(DomainUndeleted(name=name), ctx)]

        await commit(ctx, unit)

    await execute(ctx, actor, CommandType.UNDELETE_DOMAIN, name, run)


async def reactivate_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    """Only the registrar that deleted it, only during quarantine; priced as a reactivation."""
    name = lookup_name(name)

    async def run(reference: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await own_domain(ctx, actor, name, session)
            if doc["status"] != "QUARANTINE":
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] has invalid status (not in quarantine)")
            await ctx.db[DOMAINS].update_one(
                {"_id": name}, {"$set": {"status": "REGISTERED"},
                                "$unset": {"delete_date": "", "quarantined_at": "", "available_on": ""}},
                session=session,
            )
            charged = await charge(ctx, session, actor.registrar_id,
                                   Charge(TransactionKind.REACTIVATION, name, reference), actor.correlation_id)
            return [actor.event(DomainReactivated(name=name), ctx), *charged]

        async with registrar_lock(ctx, actor.registrar_id):
            await commit(ctx, unit)

    await execute(ctx, actor, CommandType.REACTIVATE_DOMAIN, name, run)


# -- the lifecycle job ------------------------------------------------------------------------------------------

async def run_lifecycle(ctx: ServiceContext) -> dict[str, int]:
    """Move due deletions into quarantine and release ended quarantines; one transaction per domain."""
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    now = ctx.clock.now()
    counts = {"quarantined": 0, "released": 0, "locks_lifted": 0}
    due = await ctx.db[DOMAINS].find({"status": "REGISTERED", "delete_date": {"$lte": now}}, {"_id": 1}).to_list()
    for doc in due:
        available_on = now + timedelta(days=settings.quarantine_days)

        async def quarantine(session: AsyncClientSession, name: str = doc["_id"], available_on: datetime = available_on) -> bool:
            current = await ctx.db[DOMAINS].find_one({"_id": name}, session=session)
            if not current or current["status"] != "REGISTERED" or not current.get("delete_date") \
                    or current["delete_date"] > now:
                return False  # undeleted or rescheduled meanwhile
            await ctx.db[DOMAINS].update_one(
                {"_id": name}, {"$set": {"status": "QUARANTINE", "quarantined_at": now, "available_on": available_on}},
                session=session,
            )
            await ctx.outbox.add([new_event(DomainQuarantined(name=name, quarantined_at=now, available_on=available_on),
                                            registrar_id=current["registrar_id"], correlation_id=None, clock=ctx.clock)],
                                 session)
            return True

        # counted after the commit: a transaction the driver retries runs its callback again
        counts["quarantined"] += await in_transaction(ctx.client, quarantine)
    ended = await ctx.db[DOMAINS].find({"status": "QUARANTINE", "available_on": {"$lte": now}}, {"_id": 1}).to_list()
    for doc in ended:
        async def release(session: AsyncClientSession, name: str = doc["_id"]) -> bool:
            current = await ctx.db[DOMAINS].find_one({"_id": name}, session=session)
            if not current or current["status"] != "QUARANTINE" or current["available_on"] > now:
                return False
            await ctx.db[DOMAINS].delete_one({"_id": name}, session=session)
            await ctx.outbox.add([new_event(DomainReleased(name=name), registrar_id=current["registrar_id"],
                                            correlation_id=None, clock=ctx.clock)], session)
            return True

        counts["released"] += await in_transaction(ctx.client, release)
    for complaint_id in await due_complaints(ctx, now):
        async def lift(session: AsyncClientSession, complaint_id: str = complaint_id) -> bool:
            events = await lift_unanswered(ctx, session, complaint_id, now)
            await ctx.outbox.add(events, session)
            return bool(events)

        counts["locks_lifted"] += await in_transaction(ctx.client, lift)
    if any(counts.values()):
        ctx.committed()
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
