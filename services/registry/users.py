"""Users of a registrar's account and how they prove who they are.

The administrator user's id is the registrar id; only it creates users and changes the EPP password.
Each user has permissions; a user with only MY_REGISTRATIONS is read-only. Web logins may need a
second step (TOTP); an administrator can reset a user's second step or give it a temporary key that
works once within 90 seconds (never for the administrator itself). Every login attempt is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.registry import totp
from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.results import CommandRefused, Result
from shared.auth import SessionTokens
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

USERS = "users"
LOGIN_ATTEMPTS = "login_attempts"
SESSIONS = "sessions"
TEMPORARY_KEY_SECONDS = 90
SESSION_HOURS = 8
# brute force: after this many failed logins of one user id from one address in the window, that address is
# paused for the user id until the window has passed since the last failure (others and other addresses are
# not: an attacker cannot lock the real user out from elsewhere)
LOGIN_FAILURES_BEFORE_PAUSE = 5
LOGIN_PAUSE = timedelta(minutes=15)


class LoginPaused(CommandRefused):
    """Too many failed logins: answered 429 with Retry-After over HTTP."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(Result.SESSION_LIMIT, "too many failed logins from this address: try again later")
        self.retry_after_seconds = max(1, int(retry_after.total_seconds()))

USER_INDEXES = (
    CollectionIndexes(USERS, (IndexModel([("registrar_id", ASCENDING)]),)),
    CollectionIndexes(
        LOGIN_ATTEMPTS,
        (
            IndexModel([("user_id", ASCENDING), ("at", DESCENDING)]),
            IndexModel("at", expireAfterSeconds=366 * 24 * 3600),  # kept a year
        ),
    ),
    CollectionIndexes(SESSIONS, (IndexModel("expires_at", expireAfterSeconds=0),)),
)

_USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def admin_document(registrar_id: str, password: str, now: datetime) -> dict[str, Any]:
    check_policy(password)
    return {
        "_id": registrar_id,
        "registrar_id": registrar_id,
        "password_hash": hash_password(password),
        "permissions": sorted(ALL_PERMISSIONS),
        "created_at": now,
    }


class Users:
    def __init__(self, db: AsyncDatabase[Document], tokens: SessionTokens | None = None) -> None:
        # signs session tokens so that other services can verify them (shared/auth.py)
        self.tokens = tokens
        self.users = db[USERS]
        self.attempts = db[LOGIN_ATTEMPTS]
        self.sessions = db[SESSIONS]

    async def get(self, user_id: str, session: AsyncClientSession | None = None) -> User | None:
        doc = await self.users.find_one({"_id": user_id}, session=session)
        return User.from_document(doc) if doc else None

    async def list(self, registrar_id: str) -> list[User]:
        docs = await self.users.find({"registrar_id": registrar_id}).sort("_id", ASCENDING).to_list()
        return [User.from_document(d) for d in docs]

    # -- commands (run inside the caller's transaction) -------------------------------------------------

    async def create(
        self, admin: User, user_id: str, password: str, permissions: set[Permission], now: datetime,
        session: AsyncClientSession,
    ) -> User:
        if not admin.is_admin:
            raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user creates users")
        if not _USER_ID.match(user_id):
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"invalid user id [{user_id}]: 3-32 of a-z 0-9 . _ -")
        _check_password(password)
        if Permission.MY_REGISTRATIONS not in permissions and permissions:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "every permission needs MY_REGISTRATIONS access")
        if await self.users.find_one({"_id": user_id}, {"_id": 1}, session=session):
            raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: user [{user_id}]")
        await self.users.insert_one(
            {
                "_id": user_id,
                "registrar_id": admin.registrar_id,
                "password_hash": hash_password(password),
                "permissions": sorted(permissions),
                "created_at": now,
            },
            session=session,
        )
        return User(user_id, admin.registrar_id, frozenset(permissions), False)

    async def _own_user(self, admin: User, user_id: str, session: AsyncClientSession) -> User:
        if not admin.is_admin:
            raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user manages users")
        user = await self.get(user_id, session)
        if user is None or user.registrar_id != admin.registrar_id:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: user [{user_id}]")
        return user

    async def set_permissions(
        self, admin: User, user_id: str, permissions: set[Permission], session: AsyncClientSession
    ) -> None:
        user = await self._own_user(admin, user_id, session)
        if user.is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, "the administrator user always has every permission")
        await self.users.update_one({"_id": user_id}, {"$set": {"permissions": sorted(permissions)}}, session=session)

    async def delete(self, admin: User, user_id: str, session: AsyncClientSession) -> None:
        user = await self._own_user(admin, user_id, session)
        if user.is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, "the administrator user cannot be deleted")
        await self.users.delete_one({"_id": user_id}, session=session)
        await self.sessions.delete_many({"user_id": user_id}, session=session)

    async def change_password(
        self, actor: User, user_id: str, current: str | None, new: str, session: AsyncClientSession
    ) -> None:
        """A user changes its own password (knowing the current one); the administrator any of its users'."""
        if user_id == actor.user_id:
            doc = await self.users.find_one({"_id": user_id}, session=session)
            if doc is None or current is None or not verify_password(doc["password_hash"], current):
                raise CommandRefused(Result.AUTHORIZATION_ERROR, "the current password is wrong")
        else:
            await self._own_user(actor, user_id, session)
        _check_password(new)
        await self.users.update_one({"_id": user_id}, {"$set": {"password_hash": hash_password(new)}}, session=session)

    async def reset_two_step(self, admin: User, user_id: str, session: AsyncClientSession) -> None:
        user = await self._own_user(admin, user_id, session)
        if user.is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, "the administrator's 2-step is reset by the registry")
        await self.users.update_one({"_id": user_id}, {"$unset": {"totp_secret": ""}}, session=session)

    async def temporary_key(self, admin: User, user_id: str, now: datetime, session: AsyncClientSession) -> str:
        user = await self._own_user(admin, user_id, session)
        if user.is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, "no temporary key for the administrator user")
        key = f"{secrets.randbelow(1_000_000):06d}"
        await self.users.update_one(
            {"_id": user_id},
            {"$set": {"temporary_key": {"digest": _digest(key), "expires_at": now + timedelta(seconds=TEMPORARY_KEY_SECONDS)}}},
            session=session,
        )
        return key

    async def enable_two_step(self, user: User) -> str:
        """Returns the new TOTP secret (shown once, to load into the user's authenticator app)."""
        secret = totp.new_secret()
        await self.users.update_one({"_id": user.user_id}, {"$set": {"totp_secret": secret}})
        return secret

    # -- authentication -----------------------------------------------------------------------------------

    async def login(self, user_id: str, password: str, code: str | None, ip: str, now: datetime) -> tuple[User, str]:
        """Check password (and second step); record the attempt; return the user and a session token."""
        await self._refuse_if_paused(user_id, ip, now)
        doc = await self.users.find_one({"_id": user_id})
        # Argon2 takes tens of milliseconds: off the event loop, so other requests keep moving
        ok = await asyncio.to_thread(verify_password, doc["password_hash"] if doc else _ABSENT, password) \
            and doc is not None
        if ok and doc is not None and doc.get("totp_secret"):
            ok = bool(code) and (totp.verify(doc["totp_secret"], code or "", now) or await self._use_temporary_key(doc, code or "", now))
        await self.attempts.insert_one(
            {"user_id": user_id, "registrar_id": doc["registrar_id"] if doc else None, "ip": ip, "at": now, "success": ok}
        )
        if not ok or doc is None:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "wrong user id, password or 2-step code")
        user = User.from_document(doc)
        session_id, expires_at = secrets.token_urlsafe(16), now + timedelta(hours=SESSION_HOURS)
        token = (
            self.tokens.issue(user_id=user_id, registrar_id=user.registrar_id, permissions=user.permissions,
                              session_id=session_id, expires_at=expires_at)
            if self.tokens else secrets.token_urlsafe(32)
        )
        # the record stays the registry's authority (logout ends the session here at once)
        await self.sessions.insert_one(
            {"_id": _digest(token), "session_id": session_id, "user_id": user_id, "ip": ip, "expires_at": expires_at}
        )
        return user, token

    async def _refuse_if_paused(self, user_id: str, ip: str, now: datetime) -> None:
        await refuse_if_paused(self.attempts, user_id, ip, now)

    async def _use_temporary_key(self, doc: dict[str, Any], code: str, now: datetime) -> bool:
        key = doc.get("temporary_key")
        if not key or key["expires_at"] <= now or not secrets.compare_digest(key["digest"], _digest(code)):
            return False
        # once only
        await self.users.update_one({"_id": doc["_id"]}, {"$unset": {"temporary_key": ""}})
        return True

    async def by_token(self, token: str, now: datetime) -> User | None:
        entry = await self.sessions.find_one({"_id": _digest(token), "expires_at": {"$gt": now}})
        return await self.get(entry["user_id"]) if entry else None

    async def logout(self, token: str) -> None:
        await self.sessions.delete_one({"_id": _digest(token)})

    async def login_attempts(self, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        docs = await self.attempts.find({"user_id": user_id}).sort("at", DESCENDING).limit(limit).to_list()
        return [{"ip": d["ip"], "at": d["at"], "success": d["success"]} for d in docs]


async def refuse_if_paused(attempts: AsyncCollection[Document], user_id: str, ip: str, now: datetime,
                           channel: str | None = None) -> None:
    """The brute-force rule of every login door (web: channel None; EPP: "EPP"), counted in the database so
    that every connection and replica sees the same failures: raises LoginPaused while paused."""
    recent = await attempts.find({"user_id": user_id, "at": {"$gt": now - LOGIN_PAUSE}},
                                 {"ip": 1, "at": 1, "success": 1, "channel": 1}
                                 ).sort([("at", DESCENDING), ("_id", DESCENDING)]).to_list()  # newest first
    from_here = [a for a in recent if a["ip"] == ip and a.get("channel") == channel][:LOGIN_FAILURES_BEFORE_PAUSE]
    if len(from_here) == LOGIN_FAILURES_BEFORE_PAUSE and not any(a["success"] for a in from_here):
        raise LoginPaused(from_here[0]["at"] + LOGIN_PAUSE - now)


def _check_password(password: str) -> None:
    try:
        check_policy(password)
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, str(exc)) from exc


# verified against when the user does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-User-0")
