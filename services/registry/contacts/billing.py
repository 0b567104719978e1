"""A registrar's billing contact, as this process knows it.

Once it exists it stays what it is (a registrar has one, contacts/create.py; it cannot be deleted,
contacts/delete.py; a contact's type never changes): this process keeps it from the first read that sees it, an
info's (domains/info.py) or a create's contact read (contacts/shared_reads.py, which asks for it anyway), so an
info costs one read. None (no billing contact yet) is not kept: one may be created.
"""

from __future__ import annotations

from services.registry.contacts.model import ContactType
from services.registry.single_flight import SingleFlight
from services.registry.store import CONTACTS, unit_of_work
from shared.runtime import ServiceContext


def _known(ctx: ServiceContext) -> dict[str, str]:
    known: dict[str, str] = ctx.extras.setdefault("billing_contacts", {})
    return known


def known_billing(ctx: ServiceContext, registrar_id: str) -> str | None:
    """The registrar's billing contact if this process knows it already (no read)."""
    return _known(ctx).get(registrar_id)


def remember_billing(ctx: ServiceContext, registrar_id: str, alias: str) -> None:
    """A read that was not for the billing contact alone found it."""
    _known(ctx)[registrar_id] = alias


async def billing_contact(ctx: ServiceContext, registrar_id: str) -> str | None:
    """The registrar's billing contact: known, or read. Callers that find it unknown while a read of it is in flight
    wait for that read instead of sending their own (single_flight.py: 50 sessions' first infos at once cost one
    read)."""
    known = _known(ctx)
    if registrar_id in known:
        return known[registrar_id]
    reads: SingleFlight[str, str | None] = ctx.extras.setdefault("billing_reads", SingleFlight())
    return await reads.run(registrar_id, lambda: _read(ctx, registrar_id))


async def _read(ctx: ServiceContext, registrar_id: str) -> str | None:
    billing = await unit_of_work(ctx)[CONTACTS].find_one({"registrar_id": registrar_id,
                                                          "type": ContactType.BILLING.value}, {"_id": 1})
    alias: str | None = (billing or {}).get("_id")
    if alias is not None:
        remember_billing(ctx, registrar_id, alias)
    return alias
