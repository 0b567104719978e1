"""Who a user is: its permissions, and what an administrator may do (digest 5.1).

The administrator user's id is the registrar id; only it creates users and changes the EPP password.
A user with only MY_REGISTRATIONS is read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.registry.results import CommandRefused, Result
from services.registry.users.passwords import check_policy, hash_password

USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


class Permission(StrEnum):
    MY_REGISTRATIONS = "MY_REGISTRATIONS"  # access; alone it is read-only
    VIEW_FINANCIAL = "VIEW_FINANCIAL"
    UPDATE_EPP_SETTINGS = "UPDATE_EPP_SETTINGS"
    INVOICING_INFO = "INVOICING_INFO"
    TRANSACTIONS = "TRANSACTIONS"  # may execute commands that change objects


ALL_PERMISSIONS = frozenset(Permission)


@dataclass(frozen=True)
class User:
    user_id: str
    registrar_id: str
    permissions: frozenset[Permission]
    two_step: bool

    @property
    def is_admin(self) -> bool:
        return self.user_id == self.registrar_id

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> User:
        return cls(
            user_id=doc["_id"],
            registrar_id=doc["registrar_id"],
            permissions=frozenset(Permission(p) for p in doc["permissions"]),
            two_step=bool(doc.get("totp_secret")),
        )


def admin_document(registrar_id: str, password: str, now: datetime) -> dict[str, Any]:
    check_policy(password)
    return {
        "_id": registrar_id,
        "registrar_id": registrar_id,
        "password_hash": hash_password(password),
        "permissions": sorted(ALL_PERMISSIONS),
        "created_at": now,
    }


def check_password(password: str) -> None:
    """A web password that breaks the policy is refused with 2306."""
    try:
        check_policy(password)
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, str(exc)) from exc
