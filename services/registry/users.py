"""Users of a registrar's account and how they prove who they are.

The administrator user's id is the registrar id; only it creates users and changes the EPP password.
Each user has permissions; a user with only MY_REGISTRATIONS is read-only. Web logins may need a
second step (TOTP); an administrator can reset a user's second step or give it a temporary key that
works once within 90 seconds (never for the administrator itself). Every login attempt is recorded.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.registry import totp
from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.results import CommandRefused, Result
from shared.auth import InvalidToken, SessionTokens
from shared.events.sessions import RevocationReason, SessionRevoked
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

USERS = "users"
LOGIN_ATTEMPTS = "login_attempts"
SESSIONS = "sessions"
TEMPORARY_KEY_SECONDS = 90
SESSION_HOURS = 8  # the default of SESSION_HOURS: how long a refresh token keeps a session alive
ACCESS_TOKEN_MINUTES = 15
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


@dataclass(frozen=True)
class IssuedTokens:
    """What a login or a refresh hands out: a short-lived access token (a JWT every service verifies) and the
    refresh token (opaque, only the registry reads it, replaced at each use)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    session_id: str


class Users:
    def __init__(
        self, db: AsyncDatabase[Document], tokens: SessionTokens | None = None, *,
        access_token_minutes: int = ACCESS_TOKEN_MINUTES, session_hours: int = SESSION_HOURS,
    ) -> None:
        # mints the access tokens that every service verifies with the registry's public keys (shared/auth.py)
        self.tokens = tokens or SessionTokens()
        self.access_lifetime = timedelta(minutes=access_token_minutes)
        self.session_lifetime = timedelta(hours=session_hours)
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

    async def delete(self, admin: User, user_id: str, now: datetime, session: AsyncClientSession) -> SessionRevoked:
        """Returns the revocation of the user's sessions, for the caller to publish with the deletion."""
        user = await self._own_user(admin, user_id, session)
        if user.is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, "the administrator user cannot be deleted")
        await self.users.delete_one({"_id": user_id}, session=session)
        return await self._end_sessions(user_id, RevocationReason.USER_DELETED, now, session)

    async def change_password(
        self, actor: User, user_id: str, current: str | None, new: str, now: datetime, session: AsyncClientSession
    ) -> SessionRevoked:
        """A user changes its own password (knowing the current one); the administrator any of its users'.
        Every session of the user ends (the caller's too): returns their revocation, for the caller to publish."""
        if user_id == actor.user_id:
            doc = await self.users.find_one({"_id": user_id}, session=session)
            if doc is None or current is None or not verify_password(doc["password_hash"], current):
                raise CommandRefused(Result.AUTHORIZATION_ERROR, "the current password is wrong")
        else:
            await self._own_user(actor, user_id, session)
        _check_password(new)
        await self.users.update_one({"_id": user_id}, {"$set": {"password_hash": hash_password(new)}}, session=session)
        return await self._end_sessions(user_id, RevocationReason.PASSWORD_CHANGED, now, session)

    async def _end_sessions(
        self, user_id: str, reason: RevocationReason, now: datetime, session: AsyncClientSession
    ) -> SessionRevoked:
        ids = [d["_id"] for d in await self.sessions.find({"user_id": user_id}, {"_id": 1}, session=session).to_list()]
        await self.sessions.delete_many({"user_id": user_id}, session=session)
        return self._revocation(user_id, ids, reason, now)

    def _revocation(
        self, user_id: str, session_ids: Sequence[str], reason: RevocationReason, now: datetime
    ) -> SessionRevoked:
        # no access token issued before now outlives now + its lifetime: the deny-list entry may go then
        return SessionRevoked(user_id=user_id, session_ids=sorted(session_ids), reason=reason,
                              expires_at=now + self.access_lifetime)

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

    async def login(self, user_id: str, password: str, code: str | None, ip: str, now: datetime) -> tuple[User, IssuedTokens]:
        """Check password (and second step); record the attempt; return the user and its session's tokens."""
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
        session_id, refresh_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        # the record stays the registry's authority: logout ends the session here at once, and a refresh
        # needs it; the other services learn of an early end from session.revoked
        await self.sessions.insert_one(
            {"_id": session_id, "user_id": user_id, "registrar_id": user.registrar_id, "ip": ip,
             "refresh_digest": _digest(refresh_secret), "created_at": now, "expires_at": now + self.session_lifetime}
        )
        return user, self._issue(user, session_id, refresh_secret, now + self.session_lifetime, now)

    def _issue(self, user: User, session_id: str, refresh_secret: str, session_end: datetime, now: datetime) -> IssuedTokens:
        expires_at = min(now + self.access_lifetime, session_end)
        access = self.tokens.issue(user_id=user.user_id, registrar_id=user.registrar_id, permissions=user.permissions,
                                   session_id=session_id, expires_at=expires_at, issued_at=now)
        return IssuedTokens(access, f"{session_id}.{refresh_secret}", expires_at, session_id)

    async def refresh(self, refresh_token: str, now: datetime) -> tuple[User, IssuedTokens]:
        """A new access token for a live session, with the user's current permissions; the refresh token is
        replaced (the one presented no longer works)."""
        session_id, _, secret = refresh_token.partition(".")
        entry = await self.sessions.find_one({"_id": session_id, "expires_at": {"$gt": now}})
        if entry is None or not secret or not secrets.compare_digest(entry.get("refresh_digest", ""), _digest(secret)):
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        user = await self.get(entry["user_id"])
        if user is None:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        fresh = secrets.token_urlsafe(32)
        # compare-and-set: of two refreshes racing with one token, one wins
        changed = await self.sessions.update_one({"_id": session_id, "refresh_digest": entry["refresh_digest"]},
                                                 {"$set": {"refresh_digest": _digest(fresh)}})
        if changed.modified_count != 1:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        return user, self._issue(user, session_id, fresh, entry["expires_at"], now)

    async def _refuse_if_paused(self, user_id: str, ip: str, now: datetime) -> None:
        recent = await self.attempts.find({"user_id": user_id, "at": {"$gt": now - LOGIN_PAUSE}},
                                          {"ip": 1, "at": 1, "success": 1}
                                          ).sort([("at", DESCENDING), ("_id", DESCENDING)]).to_list()  # newest first
        from_here = [a for a in recent if a["ip"] == ip][:LOGIN_FAILURES_BEFORE_PAUSE]
        if len(from_here) == LOGIN_FAILURES_BEFORE_PAUSE and not any(a["success"] for a in from_here):
            raise LoginPaused(from_here[0]["at"] + LOGIN_PAUSE - now)

    async def _use_temporary_key(self, doc: dict[str, Any], code: str, now: datetime) -> bool:
        key = doc.get("temporary_key")
        if not key or key["expires_at"] <= now or not secrets.compare_digest(key["digest"], _digest(code)):
            return False
        # once only
        await self.users.update_one({"_id": doc["_id"]}, {"$unset": {"temporary_key": ""}})
        return True

    async def by_token(self, token: str, now: datetime) -> User | None:
        """The user of a valid access token whose session is still open here."""
        try:
            claims = await self.tokens.verify(token, now)
        except InvalidToken:
            return None
        entry = await self.sessions.find_one({"_id": claims.session_id, "expires_at": {"$gt": now}}, {"user_id": 1})
        return await self.get(entry["user_id"]) if entry else None

    async def logout(self, token: str, now: datetime, session: AsyncClientSession) -> SessionRevoked | None:
        """Ends the token's session; returns its revocation for the caller to publish."""
        try:
            claims = await self.tokens.verify(token, now)
        except InvalidToken:
            return None
        await self.sessions.delete_one({"_id": claims.session_id}, session=session)
        return self._revocation(claims.user_id, [claims.session_id], RevocationReason.LOGOUT, now)

    async def login_attempts(self, user_id: str, limit: int = 100) -> "builtins.list[dict[str, Any]]":
        docs = await self.attempts.find({"user_id": user_id}).sort("at", DESCENDING).limit(limit).to_list()
        return [{"ip": d["ip"], "at": d["at"], "success": d["success"]} for d in docs]


def _check_password(password: str) -> None:
    try:
        check_policy(password)
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, str(exc)) from exc


# verified against when the user does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-User-0")
