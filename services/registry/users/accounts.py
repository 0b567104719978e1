"""The web login and its sessions: password and 2-step code (TOTP, or a temporary key that works once within
90 seconds), a pause for an address after repeated failures, bearer tokens recorded here (logout ends a
session at once), and every login attempt recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING

from services.registry.results import CommandRefused, Result
from services.registry.store import LOGIN_ATTEMPTS, SESSIONS, USERS
from services.registry.uow import Collection, Reader
from services.registry.users import totp
from services.registry.users.model import User
from services.registry.users.passwords import hash_password, verify_password
from shared.auth import SessionTokens

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


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Users:
    def __init__(self, db: Reader, tokens: SessionTokens | None = None) -> None:
        # signs session tokens so that other services can verify them (shared/auth.py)
        self.tokens = tokens
        self.users = db[USERS]
        self.attempts = db[LOGIN_ATTEMPTS]
        self.sessions = db[SESSIONS]

    async def get(self, user_id: str) -> User | None:
        doc = await self.users.find_one({"_id": user_id})
        return User.from_document(doc) if doc else None

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
            {"_id": digest(token), "session_id": session_id, "user_id": user_id, "ip": ip, "expires_at": expires_at}
        )
        return user, token

    async def _refuse_if_paused(self, user_id: str, ip: str, now: datetime) -> None:
        await refuse_if_paused(self.attempts, user_id, ip, now)

    async def _use_temporary_key(self, doc: dict[str, Any], code: str, now: datetime) -> bool:
        key = doc.get("temporary_key")
        if not key or key["expires_at"] <= now or not secrets.compare_digest(key["digest"], digest(code)):
            return False
        # once only
        await self.users.update_one({"_id": doc["_id"]}, {"$unset": {"temporary_key": ""}})
        return True

    async def by_token(self, token: str, now: datetime) -> User | None:
        entry = await self.sessions.find_one({"_id": digest(token), "expires_at": {"$gt": now}})
        return await self.get(entry["user_id"]) if entry else None

    async def logout(self, token: str) -> None:
        await self.sessions.delete_one({"_id": digest(token)})



async def refuse_if_paused(attempts: Collection, user_id: str, ip: str, now: datetime,
                           channel: str | None = None) -> None:
    """The brute-force rule of every login door (web: channel None; EPP: "EPP"), counted in the database so
    that every connection and replica sees the same failures: raises LoginPaused while paused."""
    recent = await attempts.find({"user_id": user_id, "at": {"$gt": now - LOGIN_PAUSE}},
                                 {"ip": 1, "at": 1, "success": 1, "channel": 1}
                                 ).sort([("at", DESCENDING), ("_id", DESCENDING)]).to_list()  # newest first
    from_here = [a for a in recent if a["ip"] == ip and a.get("channel") == channel][:LOGIN_FAILURES_BEFORE_PAUSE]
    if len(from_here) == LOGIN_FAILURES_BEFORE_PAUSE and not any(a["success"] for a in from_here):
        raise LoginPaused(from_here[0]["at"] + LOGIN_PAUSE - now)


# verified against when the user does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-User-0")
