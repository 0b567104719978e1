"""The sign-in in two steps: the password first, then the 2-step code. A right password of an account with
2-step answers a pending sign-in token instead of a session; the code step presents it with the code.

The token is random, stored as its SHA-256 digest only (a database read gives nothing to present), bound to
one account of one kind (a registrar user, or a staff member), lives PENDING_MINUTES and opens one session:
the right code uses it up. A wrong code leaves it until it expires, but counts as a failed login, so the
login pause (5 failures, 15 minutes) caps the guesses as it caps passwords. It is no access token and no
refresh token: no other call accepts it. A change of the account's password or 2-step secret (or disabling
it) in between makes it void.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.registry.store import PENDING_SIGN_INS
from services.registry.uow import Reader
from shared.clock import purge_after

PENDING_MINUTES = 5


class Door(StrEnum):
    """Whose sign-in: a token of one door is never accepted at the other."""

    USER = "user"
    STAFF = "staff"


@dataclass(frozen=True)
class Pending:
    token: str
    expires_at: datetime

    def seconds_left(self, now: datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credentials_of(account: dict[str, Any]) -> str:
    """A fingerprint of what the password step checked (the password hash, the 2-step secret, for staff whether
    the account is active): the code step refuses a pending sign-in when it changed since."""
    held = f"{account.get('password_hash')}|{account.get('totp_secret')}|{account.get('active', True)}"
    return hashlib.sha256(held.encode()).hexdigest()


class PendingSignIns:
    def __init__(self, db: Reader) -> None:
        self.pending = db[PENDING_SIGN_INS]

    async def start(self, door: Door, account: dict[str, Any], now: datetime) -> Pending:
        token, lifetime = secrets.token_urlsafe(32), timedelta(minutes=PENDING_MINUTES)
        await self.pending.insert_one({"_id": _digest(token), "door": door.value, "account_id": account["_id"],
                                       "credentials": credentials_of(account), "created_at": now,
                                       "expires_at": now + lifetime, "purge_at": purge_after(now + lifetime, lifetime)})
        return Pending(token, now + lifetime)

    async def account_of(self, door: Door, token: str, now: datetime) -> str | None:
        """The account a live token of this door stands for; None for an unknown, used or expired one."""
        entry = await self.pending.find_one({"_id": _digest(token), "door": door.value, "expires_at": {"$gt": now}},
                                            {"account_id": 1})
        return str(entry["account_id"]) if entry else None

    async def still_valid(self, door: Door, token: str, account: dict[str, Any]) -> bool:
        """False when the account's password or 2-step secret changed since the password step (or it was
        disabled): the password that was right then is not any more."""
        entry = await self.pending.find_one({"_id": _digest(token), "door": door.value}, {"credentials": 1})
        return entry is not None and secrets.compare_digest(str(entry.get("credentials", "")), credentials_of(account))

    async def use(self, door: Door, token: str, account_id: str) -> bool:
        """Uses the token up; of two code steps racing with one token, only one gets True."""
        return await self.pending.delete_one({"_id": _digest(token), "door": door.value,
                                              "account_id": account_id}) == 1
