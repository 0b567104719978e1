"""One registrar's contact reads, shared by the domain creates that ask at the same time.

A domain create reads the contacts it names with the registrar's billing contact (contacts/rules.require_roles),
before its transaction. While one such read of a registrar is in flight, the reads asked for meanwhile wait and
then go as one query (the union of their aliases): each caller gets what a read of its own issued at that moment
would have returned, since the query starts after every caller in it asked. Ten sessions' creates then cost about
one contact query per turn instead of one each.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from services.registry.contacts.billing import remember_billing
from services.registry.contacts.model import ContactType
from services.registry.store import CONTACTS, unit_of_work
from shared.runtime import ServiceContext

Document = dict[str, Any]
FIELDS = {"type": 1, "verification": 1}


@dataclass
class _Reads:
    waiting: list[tuple[frozenset[str], asyncio.Future[list[Document]]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


async def contacts_with_billing(ctx: ServiceContext, registrar_id: str, aliases: list[str]) -> list[Document]:
    """The registrar's contacts among `aliases`, and its billing contact (type and verification of each)."""
    done: asyncio.Future[list[Document]] = asyncio.get_running_loop().create_future()
    reads: dict[str, _Reads] = ctx.extras.setdefault("contact_reads", {})
    state = reads.setdefault(registrar_id, _Reads())
    state.waiting.append((frozenset(aliases), done))
    if state.task is None:
        state.task = asyncio.create_task(_drain(ctx, registrar_id, state), context=contextvars.Context())
    return await done


async def _drain(ctx: ServiceContext, registrar_id: str, state: _Reads) -> None:
    try:
        while state.waiting:
            batch, state.waiting = state.waiting, []
            wanted = sorted(set().union(*(aliases for aliases, _ in batch)))
            try:
                docs = await unit_of_work(ctx)[CONTACTS].find(
                    {"registrar_id": registrar_id,
                     "$or": [{"_id": {"$in": wanted}}, {"type": ContactType.BILLING.value}]}, FIELDS).to_list()
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for doc in docs:
                if doc["type"] == ContactType.BILLING.value:  # what an info would read: known from now on
                    remember_billing(ctx, registrar_id, doc["_id"])
            for aliases, future in batch:
                if not future.done():  # its caller gave up meanwhile
                    future.set_result([d for d in docs if d["_id"] in aliases or d["type"] == ContactType.BILLING.value])
    finally:
        state.task = None
        for _, future in state.waiting:  # only when cancelled (shut down)
            future.cancel()
