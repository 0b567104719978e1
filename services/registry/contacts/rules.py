"""Checks several commands share about contacts (Nomulus's *FlowUtils)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.registry.commands import Actor
from services.registry.contacts.model import MAX_PER_DOMAIN, ContactType
from services.registry.results import CommandRefused, Result
from services.registry.store import CONTACTS
from services.registry.uow import Reader


async def own_contact(tx: Reader, actor: Actor, alias: str) -> dict[str, Any]:
    """The registrar's contact; another registrar's is reported as not existing."""
    doc = await tx[CONTACTS].find_one({"_id": alias, "registrar_id": actor.registrar_id})
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: contact [{alias}]")
    return doc


async def require_roles(tx: Reader, registrar_id: str, roles: dict[ContactType, list[str]],
                        read: Callable[[list[str]], Awaitable[list[dict[str, Any]]]] | None = None,
                        ) -> dict[str, dict[str, Any]]:
    """For a domain: the per-domain limits hold (2306); the registrar has its billing and at least one tech
    contact (2308); every alias exists and belongs to the registrar (2303) and has the role it is used in
    (2306). Returns the contacts named (with type and verification), read with the registrar's billing contact
    in one query (a registrar has at most one; `read`, when given, makes that query: contacts/shared_reads.py);
    a second query looks for a tech contact only when none is named."""
    for role, limit in MAX_PER_DOMAIN.items():
        if len(roles.get(ContactType(role), [])) > limit:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"at most {limit} {role.lower()} contacts per domain")
    wanted = sorted({alias for aliases in roles.values() for alias in aliases})
    docs = await read(wanted) if read is not None else await tx[CONTACTS].find(
        {"registrar_id": registrar_id, "$or": [{"_id": {"$in": wanted}}, {"type": ContactType.BILLING.value}]},
        {"type": 1, "verification": 1}).to_list()
    types = {d["type"] for d in docs}
    if ContactType.BILLING.value not in types or (
            ContactType.TECH.value not in types
            and not await tx[CONTACTS].find_one({"registrar_id": registrar_id, "type": "TECH"}, {"_id": 1})):
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY,
                             "create a billing contact and at least one tech contact before the first domain")
    found = {d["_id"]: d for d in docs if d["_id"] in wanted}
    for role, aliases in roles.items():
        for alias in aliases:
            if alias not in found:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: contact [{alias}]",
                                     element="contact:id", value=alias)
            if found[alias]["type"] != role.value:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                     f"contact [{alias}] is a {found[alias]['type']} contact, not {role.value}")
    return found
