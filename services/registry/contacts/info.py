"""Contact info and check (RFC 5733 contact:info, contact:check). No events.

  info   the registrar's contact (2303 for another's), and whether a domain uses it (EPP status linked)
  check  which aliases are still free, registry-wide
"""

from __future__ import annotations

from typing import Any

from services.registry.commands import Actor, execute
from services.registry.contacts.model import view
from services.registry.contacts.rules import own_contact
from services.registry.store import CONTACTS, DOMAINS, unit_of_work
from services.registry.users.model import Permission
from shared.events import CommandType
from shared.runtime import ServiceContext


async def info_contact(ctx: ServiceContext, actor: Actor, alias: str) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        return view(await own_contact(unit_of_work(ctx), actor, alias))

    return await execute(ctx, actor, CommandType.INFO_CONTACT, alias, run, requires=Permission.MY_REGISTRATIONS)


async def is_linked(ctx: ServiceContext, alias: str) -> bool:
    """Whether a domain uses the contact (it cannot be deleted then)."""
    return await unit_of_work(ctx)[DOMAINS].find_one({"contacts": alias}, {"_id": 1}) is not None


async def check_contacts(ctx: ServiceContext, actor: Actor, aliases: list[str]) -> dict[str, bool]:
    async def run(_: str) -> dict[str, bool]:
        found = await unit_of_work(ctx)[CONTACTS].find({"_id": {"$in": aliases}}, {"_id": 1}).to_list()
        taken = {d["_id"] for d in found}
        return {a: a not in taken for a in aliases}

    return await execute(ctx, actor, CommandType.CHECK_CONTACT, ",".join(aliases)[:255], run,
                         requires=Permission.MY_REGISTRATIONS)
