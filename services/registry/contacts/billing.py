"""A registrar's billing contact, as this process knows it.

Once it exists it stays what it is (a registrar has one, contacts/create.py; it cannot be deleted,
contacts/delete.py; a contact's type never changes): this process keeps it from the first read that sees it, an
info's (domains/info.py) or a create's contact read (contacts/shared_reads.py, which asks for it anyway), so an
info costs one read. None (no billing contact yet) is not kept: one may be created.
"""

from __future__ import annotations

import asyncio
import contextvars

from services.registry.contacts.model import ContactType
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
    wait for that read instead of sending their own (50 sessions' first infos at once cost one read, not 50
    queued behind each other in the database)."""
    known = _known(ctx)
    if registrar_id in known:
        return known[registrar_id]
    reads: dict[str, asyncio.Task[str | None]] = ctx.extras.setdefault("billing_reads", {})
    read = reads.get(registrar_id)
    if read is None:
        # a task of its own: a caller that gives up does not cancel the read the others wait for
        read = reads[registrar_id] = asyncio.create_task(_read(ctx, registrar_id), context=contextvars.Context())

        def done(task: asyncio.Task[str | None]) -> None:
            if reads.get(registrar_id) is task:
                del reads[registrar_id]
            if not task.cancelled():
                task.exception()  # retrieved, even when every caller gave up

        read.add_done_callback(done)
    return await asyncio.shield(read)


async def _read(ctx: ServiceContext, registrar_id: str) -> str | None:
    billing = await unit_of_work(ctx)[CONTACTS].find_one({"registrar_id": registrar_id,
                                                          "type": ContactType.BILLING.value}, {"_id": 1})
    alias: str | None = (billing or {}).get("_id")
    if alias is not None:
        remember_billing(ctx, registrar_id, alias)
    return alias
