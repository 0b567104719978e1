"""The audit trail of staff actions: who, when, what, and the object before and after.

Every service keeps the entries of the staff actions it served in its own database (collection `audit`),
written by the staff guard (shared/staff.py) around each changing staff request, and serves them to
operators at `GET /api/operator/audit`. The console's audit page reads the five services' trails and
merges them by time. Entries are never updated or deleted by the platform.
"""

from __future__ import annotations

import uuid
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


class AuditTrail:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.entries = db[AUDIT]

    async def record(self, entry: AuditEntry) -> None:
        doc = entry.model_dump()
        doc["_id"] = doc.pop("entry_id")
        await self.entries.insert_one(doc)

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

