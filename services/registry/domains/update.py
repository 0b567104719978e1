"""Domain update (RFC 5731 domain:update; the HTTP API's PUT replaces, EPP adds and removes).

Input: the tech and onsite contacts, name servers, name-server and key groups (the registrant changes only
through a transfer). Checks, in order:
  1. the domain exists (2303) and is the registrar's (2304: it does not belong to you);
  2. no serverUpdateProhibited, not in quarantine (2304);
  3. name servers and glue (2306 / 2005), contacts (contacts/rules.py), groups (groups/rules.py).
Events: domain.updated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.registry.commands import Actor, execute
from services.registry.contacts.model import ContactType
from services.registry.contacts.rules import require_roles
from services.registry.domains.model import HostAttr, check_glue
from services.registry.domains.names import lookup_name
from services.registry.domains.rules import linked_contacts, own_domain, refuse_if_prohibited
from services.registry.groups.rules import require_groups
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.events import CommandType
from shared.events.domains import DomainUpdated, NameServerHost
from shared.runtime import ServiceContext


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
    """Replace the domain's tech/onsite contacts, name servers and groups."""
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
        async def work(tx: Tx) -> dict[str, Any]:
            doc = await own_domain(tx, actor, name)
            refuse_if_prohibited(doc, "serverUpdateProhibited")
            wanted = new_values(doc)
            tech, onsite, hosts = list(wanted["tech"]), list(wanted["onsite"]), list(wanted["name_servers"])
            groups, keys = sorted(set(wanted["nsgroups"])), sorted(set(wanted["keygroups"]))
            check_glue(name, hosts)
            roles = {ContactType.REGISTRANT: [doc["registrant"]], ContactType.TECH: tech, ContactType.ONSITE: onsite}
            await require_roles(tx, actor.registrar_id, roles)
            await require_groups(tx, actor.registrar_id, groups, keys)
            values = {
                "tech": tech, "onsite": onsite, "name_servers": [h.model_dump() for h in hosts],
                "nsgroups": groups, "keygroups": keys, "contacts": linked_contacts(roles),
            }
            await tx[DOMAINS].update_one({"_id": name}, {"$set": values})
            tx.publish([actor.event(DomainUpdated(name=name, tech=tech, onsite=onsite,
                                                  name_servers=[h.name for h in hosts], nsgroups=groups,
                                                  keygroups=keys,
                                                  hosts=[NameServerHost(**h.model_dump()) for h in hosts]), ctx)])
            return doc | values

        return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, CommandType.UPD_DOMAIN, name, run)
