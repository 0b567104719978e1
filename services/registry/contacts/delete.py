"""Contact delete (RFC 5733 contact:delete).

Checks, in order: the contact is the registrar's (2303); not the billing contact (2304); linked to no
domain (2305). Event: contact.deleted.
"""

from __future__ import annotations

from services.registry.commands import Actor, execute
from services.registry.contacts.model import ContactType
from services.registry.contacts.rules import own_contact
from services.registry.results import CommandRefused, Result
from services.registry.store import CONTACTS, DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.events import CommandType
from shared.events.contacts import ContactDeleted
from shared.runtime import ServiceContext


async def delete_contact(ctx: ServiceContext, actor: Actor, alias: str) -> None:
    async def run(_: str) -> None:
        async def work(tx: Tx) -> None:
            doc = await own_contact(tx, actor, alias)
            if doc["type"] == ContactType.BILLING:
                raise CommandRefused(Result.STATUS_PROHIBITS, f"the billing contact [{alias}] cannot be deleted")
            linked = await tx[DOMAINS].count_documents({"contacts": alias})
            if linked:
                raise CommandRefused(Result.ASSOCIATION_PROHIBITS, f"Contact [{alias}] still linked to {linked} domain(s)")
            await tx[CONTACTS].delete_one({"_id": alias})
            tx.publish([actor.event(ContactDeleted(alias=alias, type=doc["type"]), ctx)])

        await unit_of_work(ctx).run(work)

    await execute(ctx, actor, CommandType.DEL_CONTACT, alias, run)
