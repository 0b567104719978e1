"""Domain info (RFC 5731 domain:info). The sponsoring registrar sees its domain; another registrar's is
reported as not existing (no leak), unless it holds the valid transfer code (domains/transfer.py).
Checks: the name is the registrar's (2303). No events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from services.registry.commands import Actor, execute
from services.registry.contacts.billing import billing_contact, known_billing
from services.registry.domains.model import Domain
from services.registry.domains.names import lookup_name
from services.registry.domains.rules import sponsored_domain
from services.registry.store import DOMAINS, KEYGROUPS, unit_of_work
from services.registry.users.model import Permission
from shared.events import CommandType
from shared.runtime import ServiceContext


async def info_domain(ctx: ServiceContext, actor: Actor, raw_name: str) -> Domain:
    return Domain.from_document(await info_domain_document(ctx, actor, raw_name))


async def info_domain_document(ctx: ServiceContext, actor: Actor, raw_name: str) -> dict[str, Any]:
    """The stored domain, for a channel that shows more than Domain holds (EPP info)."""
    uow = unit_of_work(ctx)

    async def run(_: str) -> dict[str, Any]:
        return await sponsored_domain(uow, actor, lookup_name(raw_name))  # reads need no transaction

    return await execute(ctx, actor, CommandType.INFO_DOMAIN, lookup_name(raw_name), run,
                         requires=Permission.MY_REGISTRATIONS)


async def info_domain_details(ctx: ServiceContext, actor: Actor, raw_name: str
                              ) -> tuple[dict[str, Any], str | None, list[dict[str, Any]]]:
    """The sponsor's info with what EPP shows beyond the document (domain_details). The sponsor is the actor, so
    its billing contact, unless known already, is read alongside the domain, not after it: two reads, the wait of
    one."""
    if known_billing(ctx, actor.registrar_id):  # the sponsor's: domain_details finds it known
        doc = await info_domain_document(ctx, actor, raw_name)
        billing, keys = await domain_details(ctx, doc)
        return doc, billing, keys
    read_billing = asyncio.ensure_future(billing_contact(ctx, actor.registrar_id))
    # left to finish if the info is refused (cancelling a read mid-flight would cost its connection)
    read_billing.add_done_callback(lambda f: f.cancelled() or f.exception())
    doc = await info_domain_document(ctx, actor, raw_name)
    billing, keys = await domain_details(ctx, doc, billing=read_billing)
    return doc, billing, keys


async def domain_details(ctx: ServiceContext, doc: dict[str, Any], billing: Awaitable[str | None] | None = None
                         ) -> tuple[str | None, list[dict[str, Any]]]:
    """What EPP info shows beyond the domain's own document: the sponsor's billing contact (`billing`, when it is
    being read already), and the DNSSEC keys of the domain's key groups (in the groups' name order)."""
    uow = unit_of_work(ctx)
    sponsor_billing = await (billing if billing is not None else billing_contact(ctx, doc["registrar_id"]))
    names = doc.get("keygroups", [])
    groups = await uow[KEYGROUPS].find({"registrar_id": doc["registrar_id"], "name": {"$in": names}},
                                       {"name": 1, "keys": 1}).to_list() if names else []
    keys = [k for g in sorted(groups, key=lambda g: g["name"]) for k in g.get("keys", [])]
    return sponsor_billing, keys


async def staff_view(ctx: ServiceContext, raw_name: str) -> dict[str, Any] | None:
    """A domain as the registry holds it, for the staff pages (any registrar's); None when there is none."""
    fields = {"registrar_id": 1, "registrant": 1, "status": 1, "statuses": 1, "override": 1, "registered_at": 1,
              "expires_at": 1, "name_servers": 1, "nsgroups": 1}
    doc = await unit_of_work(ctx)[DOMAINS].find_one({"_id": lookup_name(raw_name)}, fields)
    return {"name": doc.pop("_id"), **doc} if doc else None
