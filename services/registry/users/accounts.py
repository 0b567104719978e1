"""The web login and its sessions: password and 2-step code (TOTP, or a temporary key that works once within
90 seconds), a pause for an address after repeated failures, and every login attempt recorded. A session hands
out a short-lived access token (a JWT every service verifies with the registry's public keys) and a refresh
token (opaque, replaced at each use); the session record here stays the authority: logout, a password change
or a user's deletion end it at once, and the other services learn of it from session.revoked.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING

from services.registry.results import CommandRefused, Result
from services.registry.store import LOGIN_ATTEMPTS, SESSIONS, USERS
from services.registry.uow import Collection, Reader
from services.registry.users import totp
from services.registry.users.model import User
from services.registry.users.passwords import hash_password, verify_password
from services.registry.users.pending import Door, Pending, PendingSignIns
from shared.auth import InvalidToken, SessionTokens
from shared.clock import purge_after
from shared.events.sessions import RevocationReason, SessionRevoked

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


class TwoStepRequired(CommandRefused):
    """A right password of a user with 2-step, and no code: the sign-in goes on with the code step and this
    pending token (users/pending.py). Answered 401 with `two_step_required` over HTTP."""

    def __init__(self, pending: Pending) -> None:
        super().__init__(Result.AUTHENTICATION_ERROR, "enter the 2-step code of your authenticator app "
                                                      "(POST /api/login/code with the pending token)")
        self.pending = pending


class SignInExpired(CommandRefused):
    """The code step's pending token is unknown, used or expired: sign in again from the password."""

    def __init__(self) -> None:
        super().__init__(Result.AUTHENTICATION_ERROR, "the sign-in has expired or was completed: "
                                                      "enter the user id and password again")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedTokens:
    """What a login or a refresh hands out: a short-lived access token (a JWT every service verifies) and the
    refresh token (opaque, only the registry reads it, replaced at each use)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    session_id: str


def revocation(user_id: str, session_ids: Sequence[str], reason: RevocationReason, now: datetime,
               access_token_minutes: int) -> SessionRevoked:
    # no access token issued before now outlives now + its lifetime: the deny-list entry may go then
    return SessionRevoked(user_id=user_id, session_ids=sorted(session_ids), reason=reason,
                          expires_at=now + timedelta(minutes=access_token_minutes))


async def end_sessions(tx: Reader, user_id: str, reason: RevocationReason, now: datetime,
                       access_token_minutes: int) -> SessionRevoked:
    """Ends every session of the user (in the caller's unit of work); returns their revocation to publish."""
    ids = [d["_id"] for d in await tx[SESSIONS].find({"user_id": user_id}, {"_id": 1}).to_list()]
    await tx[SESSIONS].delete_many({"user_id": user_id})
    return revocation(user_id, ids, reason, now, access_token_minutes)


class Users:
    def __init__(
        self, db: Reader, tokens: SessionTokens | None = None, *,
        access_token_minutes: int = ACCESS_TOKEN_MINUTES, session_hours: int = SESSION_HOURS,
    ) -> None:
        # mints the access tokens that every service verifies with the registry's public keys (shared/auth.py)
        self.tokens = tokens or SessionTokens()
        self.access_minutes = access_token_minutes
        self.access_lifetime = timedelta(minutes=access_token_minutes)
        self.session_lifetime = timedelta(hours=session_hours)
        self.db = db
        self.users = db[USERS]
        self.attempts = db[LOGIN_ATTEMPTS]
        self.sessions = db[SESSIONS]

    async def get(self, user_id: str) -> User | None:
        doc = await self.users.find_one({"_id": user_id})
        return User.from_document(doc) if doc else None

    # -- authentication -----------------------------------------------------------------------------------

    async def login(
        self, user_id: str, password: str, code: str | None, ip: str, now: datetime
    ) -> tuple[User, IssuedTokens]:
        """Check password (and second step); record the attempt; return the user and its session's tokens.
        A right password without a code for a user with 2-step raises TwoStepRequired (the code step follows:
        login_with_code); nothing is recorded then, the attempt is the code step's."""
        await self._refuse_if_paused(user_id, ip, now)
        doc = await self.users.find_one({"_id": user_id})
        # Argon2 takes tens of milliseconds: off the event loop, so other requests keep moving
        ok = await asyncio.to_thread(verify_password, doc["password_hash"] if doc else _ABSENT, password) \
            and doc is not None
        if ok and doc is not None and doc.get("totp_secret"):
            if not code:
                raise TwoStepRequired(await PendingSignIns(self.db).start(Door.USER, doc, now))
            ok = await self._second_step(doc, code, now)
        await self._record(user_id, doc, ip, now, ok)
        if not ok or doc is None:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "wrong user id, password or 2-step code")
        return await self._open_session(doc, ip, now)

    async def login_with_code(self, pending: str, code: str, ip: str, now: datetime) -> tuple[User, IssuedTokens]:
        """The code step of a sign-in in two steps: the pending token of a right password, and the 2-step code
        (or a temporary key). A wrong code is a failed login (it counts toward the pause) and leaves the token;
        the right one uses it up."""
        pendings = PendingSignIns(self.db)
        user_id = await pendings.account_of(Door.USER, pending, now)
        if user_id is None:
            raise SignInExpired()
        await self._refuse_if_paused(user_id, ip, now)
        doc = await self.users.find_one({"_id": user_id})
        if doc is None or not await pendings.still_valid(Door.USER, pending, doc):
            raise SignInExpired()
        ok = bool(doc.get("totp_secret")) and await self._second_step(doc, code, now)
        # claimed before the session opens: of two code steps racing with one token, one signs in
        if ok and not await pendings.use(Door.USER, pending, user_id):
            raise SignInExpired()
        await self._record(user_id, doc, ip, now, ok)
        if not ok or doc is None:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "wrong 2-step code")
        return await self._open_session(doc, ip, now)

    async def _second_step(self, doc: dict[str, Any], code: str, now: datetime) -> bool:
        return totp.verify(doc["totp_secret"], code, now) or await self._use_temporary_key(doc, code, now)

    async def _record(self, user_id: str, doc: dict[str, Any] | None, ip: str, now: datetime, ok: bool) -> None:
        await self.attempts.insert_one(
            {"user_id": user_id, "registrar_id": doc["registrar_id"] if doc else None, "ip": ip, "at": now, "success": ok}
        )

    async def _open_session(self, doc: dict[str, Any], ip: str, now: datetime) -> tuple[User, IssuedTokens]:
        user = User.from_document(doc)
        session_id, refresh_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        # the record stays the registry's authority: logout ends the session here at once, and a refresh
        # needs it; the other services learn of an early end from session.revoked
        await self.sessions.insert_one(
            {"_id": session_id, "user_id": user.user_id, "registrar_id": user.registrar_id, "ip": ip,
             "refresh_digest": digest(refresh_secret), "created_at": now, "expires_at": now + self.session_lifetime,
             "purge_at": purge_after(now + self.session_lifetime, self.session_lifetime)}
        )
        return user, self._issue(user, session_id, refresh_secret, now + self.session_lifetime, now)

    def _issue(
        self, user: User, session_id: str, refresh_secret: str, session_end: datetime, now: datetime
    ) -> IssuedTokens:
        expires_at = min(now + self.access_lifetime, session_end)
        access = self.tokens.issue(user_id=user.user_id, registrar_id=user.registrar_id, permissions=user.permissions,
                                   session_id=session_id, expires_at=expires_at, issued_at=now)
        return IssuedTokens(access, f"{session_id}.{refresh_secret}", expires_at, session_id)

    async def refresh(self, refresh_token: str, now: datetime) -> tuple[User, IssuedTokens]:
        """A new access token for a live session, with the user's current permissions; the refresh token is
        replaced (the one presented no longer works)."""
        session_id, _, secret = refresh_token.partition(".")
        entry = await self.sessions.find_one({"_id": session_id, "expires_at": {"$gt": now}})
        if entry is None or not secret or not secrets.compare_digest(entry.get("refresh_digest", ""), digest(secret)):
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        user = await self.get(entry["user_id"])
        if user is None:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        fresh = secrets.token_urlsafe(32)
        # compare-and-set: of two refreshes racing with one token, one wins
        changed = await self.sessions.update_one({"_id": session_id, "refresh_digest": entry["refresh_digest"]},
                                                 {"$set": {"refresh_digest": digest(fresh)}})
        if changed != 1:
            raise CommandRefused(Result.AUTHENTICATION_ERROR, "the refresh token is not valid (any more): log in again")
        return user, self._issue(user, session_id, fresh, entry["expires_at"], now)

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
        """The user of a valid access token whose session is still open here."""
        try:
            claims = await self.tokens.verify(token, now)
        except InvalidToken:
            return None
        # the session and the user read at once (the token names both): a request waits for one round trip, not
        # two in a row; the user counts only if the session is open and is that user's
        entry, user = await asyncio.gather(
            self.sessions.find_one({"_id": claims.session_id, "user_id": claims.user_id, "expires_at": {"$gt": now}},
                                   {"_id": 1}),
            self.get(claims.user_id))
        return user if entry is not None else None

    async def logout(self, tx: Reader, token: str, now: datetime) -> SessionRevoked | None:
        """Ends the token's session (in the caller's unit of work); returns its revocation for it to publish."""
        try:
            claims = await self.tokens.verify(token, now)
        except InvalidToken:
            return None
        await tx[SESSIONS].delete_one({"_id": claims.session_id})
        return revocation(claims.user_id, [claims.session_id], RevocationReason.LOGOUT, now, self.access_minutes)


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
