"""Contact update (RFC 5733 contact:update; the HTTP API's PUT replaces the fields, EPP's chg changes some).

Checks: the contact is the registrar's (2303); the resulting fields are valid as a whole (2005).
Event: contact.updated (the verification service may then undo a registrant's verification).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from services.registry.commands import Actor, execute
from services.registry.contacts.model import ContactFields, contact_payload, view
from services.registry.contacts.rules import own_contact
from services.registry.field_errors import in_words
from services.registry.results import CommandRefused, Result
from services.registry.store import CONTACTS, unit_of_work
from services.registry.uow import Tx
from shared.events import CommandType
from shared.events.contacts import ContactUpdated
from shared.runtime import ServiceContext


async def update_contact(ctx: ServiceContext, actor: Actor, alias: str, fields: ContactFields) -> dict[str, Any]:
    return await _update(ctx, actor, alias, lambda _: fields)


async def change_contact(ctx: ServiceContext, actor: Actor, alias: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply only the given fields over the current ones (EPP contact:chg); the result is validated whole."""

    def merged(doc: dict[str, Any]) -> ContactFields:
        values = {k: doc.get(k) for k in ContactFields.model_fields} | changes
        try:
            return ContactFields(**{k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid contact data: {where} {in_words(first)}",
                                 element=where) from exc

    return await _update(ctx, actor, alias, merged)


async def _update(ctx: ServiceContext, actor: Actor, alias: str,
                  new_fields: Callable[[dict[str, Any]], ContactFields]) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        async def work(tx: Tx) -> dict[str, Any]:
            doc = await own_contact(tx, actor, alias)
            values = new_fields(doc).model_dump(mode="json")
            await tx[CONTACTS].update_one({"_id": alias}, {"$set": values})
            updated = doc | values
            tx.publish([actor.event(ContactUpdated(**contact_payload(updated)), ctx)])
            return view(updated)

        return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, CommandType.UPD_CONTACT, alias, run)
