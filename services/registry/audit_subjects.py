"""What a registry staff action acts on, read for the audit trail's before and after (shared/staff.py).

The object comes from the route's path parameters: a registrar, a domain, an application, a lock complaint
or a staff account. Secrets (password hashes, security codes, 2-step secrets) never reach the trail.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from services.registry.domains.names import lookup_name
from services.registry.uow import Reader
from services.registry.store import APPLICATIONS, COMPLAINTS, DOMAINS, REGISTRARS, STAFF, unit_of_work
from shared.runtime import ServiceContext
from shared.staff import Subject, SubjectIn

# path parameter -> (collection, fields kept; None: the whole document less secrets)
_SUBJECTS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "registrar_id": (REGISTRARS, ("status", "official_address", "lock_function", "blocked_until", "balance_cents")),
    "name": (DOMAINS, ("registrar_id", "status", "statuses", "override")),
    "application_id": (APPLICATIONS, None),
    "complaint_id": (COMPLAINTS, None),
    "staff_id": (STAFF, ("name", "role", "active")),
}


def registry_subject(ctx: ServiceContext) -> Subject:
    return lambda request: registry_subject_in(ctx)(request, None)


def registry_subject_in(ctx: ServiceContext) -> SubjectIn:
    """The object read through `reader` (a transaction of the unit of work), or outside any when None."""

    async def subject(request: Request, reader: Reader | None) -> dict[str, Any] | None:
        for param, (collection, fields) in _SUBJECTS.items():
            value = request.path_params.get(param)
            if value is None:
                continue
            key = lookup_name(str(value)) if param == "name" else value
            projection = {f: 1 for f in fields} if fields else {"password_hash": 0, "totp_secret": 0,
                                                                  "security_code_hash": 0}
            doc = await (reader or unit_of_work(ctx))[collection].find_one({"_id": key}, projection)
            return {"_id": key, **{k: v for k, v in (doc or {}).items() if k != "_id"}} if doc else None
        return None

    return subject
