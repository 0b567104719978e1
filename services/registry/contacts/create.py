"""Contact create (RFC 5733 contact:create with .be's type, language and VAT).

Input: NewContact (alias, type and the fields; the model checks their formats: 2005 over EPP, 422 over HTTP).
Checks, in order:
  1. the alias is 3-16 of A-Z a-z 0-9 . _ - (2005);
  2. a registrar has exactly one billing contact and at most 10 tech contacts (2308);
  3. the alias is free registry-wide (2302).
A registrant starts UNVERIFIED. Event: contact.created.
"""

from __future__ import annotations

from typing import Any

from services.registry.commands import Actor, execute
from services.registry.contacts.model import (
    ALIAS,
    MAX_TECH_PER_REGISTRAR,
    ContactType,
    NewContact,
    VerificationStatus,
    contact_payload,
    view,
)
from services.registry.results import CommandRefused, Result
from services.registry.store import CONTACTS, unit_of_work
from services.registry.uow import DuplicateKey, Tx
from shared.events import CommandType
from shared.events.contacts import ContactCreated
from shared.runtime import ServiceContext


async def create_contact(ctx: ServiceContext, actor: Actor, new: NewContact) -> dict[str, Any]:
    async def run(reference: str) -> dict[str, Any]:
        if not ALIAS.match(new.alias):
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX,
                                 f"invalid contact alias [{new.alias}]: 3-16 of A-Z a-z 0-9 . _ -")
        doc = new.model_dump(mode="json", exclude={"alias"}) | {
            "_id": new.alias, "registrar_id": actor.registrar_id, "created_at": ctx.clock.now(), "reference": reference,
        }
        if new.type is ContactType.REGISTRANT:
            doc["verification"] = VerificationStatus.UNVERIFIED.value

        async def work(tx: Tx) -> None:
            if new.type in (ContactType.BILLING, ContactType.TECH):
                count = await tx[CONTACTS].count_documents({"registrar_id": actor.registrar_id, "type": new.type.value})
                if new.type is ContactType.BILLING and count >= 1:
                    raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, "a registrar has exactly one billing contact")
                if new.type is ContactType.TECH and count >= MAX_TECH_PER_REGISTRAR:
                    raise CommandRefused(Result.DATA_MANAGEMENT_POLICY,
                                         f"a registrar has at most {MAX_TECH_PER_REGISTRAR} tech contacts")
            try:
                await tx[CONTACTS].insert_one(dict(doc))
            except DuplicateKey as exc:
                raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: contact [{new.alias}]") from exc
            tx.publish([actor.event(ContactCreated(**contact_payload(doc)), ctx)])

        await unit_of_work(ctx).run(work)
        return view(doc)

    return await execute(ctx, actor, CommandType.NEW_CONTACT, new.alias, run)
