"""The audit trail of staff actions: who, when, what, and the object before and after.

Every service keeps the entries of the staff actions it served in its own database (collection `audit`),
written by the staff guard (shared/staff.py) around each changing staff request, and serves them to
operators at `GET /api/operator/audit`. The console's audit page reads the five services' trails and
merges them by time. Entries are never updated or deleted by the platform.

A "done" entry belongs with the change it reports: where a service runs its actions in a unit of work (the
registry), the guard leaves the entry it prepared in PENDING_AUDIT and the unit of work writes it in the action's
own transaction, with the object after the change as that transaction sees it. So the trail says "done" exactly
when the change committed, once per request, and a failed action leaves no "done" behind. An action that runs no
such transaction gets its entry from the guard after the handler, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

AUDIT = "audit"
AUDIT_INDEXES = (
    CollectionIndexes(AUDIT, (IndexModel([("at", DESCENDING)]), IndexModel([("actor", 1), ("at", DESCENDING)]),
               IndexModel([("subjects", 1), ("at", DESCENDING)]))),
)
# request fields that are never written to the trail (passwords, 2-step codes, secrets)
_HIDDEN_WORDS = ("password", "secret", "code", "token", "hash")


class AuditEntry(BaseModel):
    """One staff action as served: `outcome` is done, refused (a 4xx with its reason) or failed (a 5xx)."""

    entry_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime
    service: str
    actor: str = Field(description="the staff member's id, or 'operator-token' for automation")
    role: str
    via: str = Field(description="session (a named staff account) or operator-token")
    action: str = Field(description="method and route, e.g. 'PUT /api/operator/registrars/{registrar_id}/status'")
    target: str = Field(description="the path served")
    params: dict[str, Any] = Field(default_factory=dict)
    subjects: list[str] = Field(default_factory=list, description="the path's ids: registrar, domain, case ...")
    request: Any = None
    outcome: str
    status: int
    detail: Any = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    correlation_id: str | None = None
    ip: str | None = None


def redacted(value: Any) -> Any:
    """The request as written to the trail: secrets replaced by '***'."""
    if isinstance(value, dict):
        return {k: "***" if any(w in str(k).lower() for w in _HIDDEN_WORDS) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def snapshot(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """An object as the trail keeps it: without secrets, with plain values only."""
    if doc is None:
        return None
    return {str(k): v for k, v in redacted(dict(doc)).items()}


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    doc = entry.model_dump()
    doc["_id"] = doc.pop("entry_id")
    return doc


@dataclass
class PendingAudit:
    """The "done" entry of the staff request in progress, for the unit of work to write in its transaction."""

    entry: AuditEntry
    after: Callable[[Any], Awaitable[dict[str, Any] | None]] | None = None  # the object, read through a transaction
    written: bool = False  # set once a transaction holding it committed


PENDING_AUDIT: ContextVar[PendingAudit | None] = ContextVar("pending_staff_audit", default=None)


async def pending_audit_document(reader: Any) -> dict[str, Any] | None:
    """The entry a unit of work writes in the transaction it is about to commit (`reader`: that transaction), or
    None outside a staff request or once an earlier transaction of the request wrote it."""
    pending = PENDING_AUDIT.get()
    if pending is None or pending.written:
        return None
    entry = pending.entry.model_copy()
    if pending.after is not None:
        entry.after = snapshot(await pending.after(reader))
    return audit_document(entry)


class AuditTrail:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.entries = db[AUDIT]

    async def record(self, entry: AuditEntry) -> None:
        await self.entries.insert_one(audit_document(entry))

    async def find(self, *, actor: str | None = None, subject: str | None = None, before: datetime | None = None,
                   limit: int = 100) -> list[AuditEntry]:
        query: dict[str, Any] = {}
        if actor:
            query["actor"] = actor
        if subject:
            query["subjects"] = subject
        if before:
            query["at"] = {"$lt": before}
        docs = await self.entries.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()
        return [AuditEntry(entry_id=d.pop("_id"), **d) for d in docs]

