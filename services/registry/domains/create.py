"""Domain create (RFC 5731 domain:create, digest 4.1).

Input: the name, its registrant, tech and onsite contacts, name servers (with glue inside the domain),
name-server and key groups. Checks, in order:
  1. the name is valid and its TLD served (2005 / 2306), and the registrar is accredited for the TLD (2201);
  2. name servers: at most 9, each once, glue exactly where needed (2306 / 2005);
  3. the contacts exist, are the registrar's and have their roles; the registrar has its billing and tech
     contacts (2303 / 2306 / 2308) - contacts/rules.py;
  4. the groups exist and are the registrar's (2303) - groups/rules.py;
  5. the name is free (2302; the database's unique _id decides between racing creates);
  6. the prepayment covers it (2104) - registrars/money.py.
The contacts are read with the other creates of the registrar asking at the same time (contacts/shared_reads.py),
and the writes commit in the registrar's next batch of creates (registrars/batches.py): each create gets what it
would get alone.
Events: domain.created, the payment's, and domain.override_changed when the registrant is pending
verification (the domain starts overridden, domains/override.py).
"""

from __future__ import annotations

from dataclasses import replace

from services.registry.commands import Actor, execute, standing_registrar
from services.registry.contacts.model import ContactType
from services.registry.contacts.rules import require_roles
from services.registry.contacts.shared_reads import contacts_with_billing
from services.registry.domains.model import REGISTERED, Domain, HostAttr, check_glue
from services.registry.domains.names import lookup_name, parse_domain_name
from services.registry.domains.override import override_at_creation, override_events
from services.registry.domains.rules import linked_contacts
from services.registry.groups.rules import require_groups
from services.registry.registrars.batches import PayingWrite, commit_paying
from services.registry.registrars.money import Charge
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS, REGISTRARS, unit_of_work
from shared.clock import one_year_after
from shared.events import CommandType, DomainCreated
from shared.events.domains import NameServerHost
from shared.events.money import TransactionKind
from shared.runtime import ServiceContext


async def create_domain(
    ctx: ServiceContext, actor: Actor, raw_name: str, registrant: str, tech: list[str] | None = None,
    onsite: list[str] | None = None,
    name_servers: list[HostAttr] | None = None,
    nsgroups: list[str] | None = None,
    keygroups: list[str] | None = None,
) -> Domain:
    tlds = ctx.settings.tlds  # type: ignore[attr-defined]
    uow = unit_of_work(ctx)

    async def run(reference: str) -> Domain:
        name, tld = parse_domain_name(raw_name, tlds)
        registrar = standing_registrar(actor.registrar_id) or await uow[REGISTRARS].find_one(
            {"_id": actor.registrar_id}, {"products": 1})
        if registrar is None or tld not in registrar.get("products", []):
            raise CommandRefused(Result.AUTHORIZATION_ERROR, f"registrar [{actor.registrar_id}] is not accredited for .{tld}")
        hosts, groups, keys = list(name_servers or []), sorted(set(nsgroups or [])), sorted(set(keygroups or []))
        check_glue(name, hosts)
        now = ctx.clock.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON keeps milliseconds
        host_docs = tuple(h.model_dump() for h in hosts)
        domain = Domain(name, tld, actor.registrar_id, registrant, now, REGISTERED, host_docs, tuple(groups),
                        tuple(keys), expires_at=one_year_after(now), tech=tuple(tech or []),
                        onsite=tuple(onsite or []))
        event = actor.event(DomainCreated(name=name, tld=tld, registrant=registrant, registered_at=now,
                                          name_servers=[h.name for h in hosts], nsgroups=groups, keygroups=keys,
                                          hosts=[NameServerHost(**h) for h in host_docs]), ctx)
        roles = {ContactType.REGISTRANT: [registrant], ContactType.TECH: list(tech or []),
                 ContactType.ONSITE: list(onsite or [])}

        # the rules read before the transaction (MongoDB's transactions do not lock what they read either): the
        # transaction then holds only the writes and the commit, shared with the registrar's other creates waiting
        # for their turn (registrars/batches.py)
        contacts = await require_roles(uow, actor.registrar_id, roles,
                                       lambda aliases: contacts_with_billing(ctx, actor.registrar_id, aliases))
        await require_groups(uow, actor.registrar_id, groups, keys)
        override = override_at_creation(ctx, contacts[registrant])
        document = {
            "_id": name, "name": name, "tld": tld, "registrar_id": actor.registrar_id,
            "registrant": registrant, "tech": roles[ContactType.TECH], "onsite": roles[ContactType.ONSITE],
            "contacts": linked_contacts(roles), "name_servers": list(host_docs), "nsgroups": groups,
            "keygroups": keys, "registered_at": now, "expires_at": domain.expires_at,
            "status": domain.status, "created_by": actor.user_id, "reference": reference,
            **({"override": override} if override else {}),
        }
        overridden = override_events(ctx, {"_id": name, "registrar_id": actor.registrar_id}, None, override,
                                     actor.correlation_id)
        await commit_paying(ctx, actor.registrar_id, PayingWrite(
            Charge(TransactionKind.CREATE, name, reference), actor.correlation_id, [(DOMAINS, document)],
            lambda charged: [event, *charged, *overridden],
            CommandRefused(Result.OBJECT_EXISTS, f"Object exists: domain [{name}]")))
        return replace(domain, override_reason=(override or {}).get("reason"))

    return await execute(ctx, actor, CommandType.NEW_DOMAIN, lookup_name(raw_name), run)
