"""Signed session tokens: the registry issues them at login, every service verifies them itself.

A token is `v1.<claims>.<signature>`: the claims are compact JSON in base64url (user id, registrar id,
permissions, session id, expiry), the signature is HMAC-SHA256 over `v1.<claims>` under a key derived
from INTERNAL_SECRET with HKDF (purpose "session-token", so the secret never keys two uses). A service
therefore knows who calls without reading the registry's session store, which it may not.

The trade-off: the registry deletes its session record at logout and refuses the token at once, while
another service accepts it until it expires (sessions last 8 hours). Permissions are those the user had
at login.

`SessionAuth` gives FastAPI dependencies: 401 without a token or with a forged or expired one, 403 when
the user lacks the permission. `operator_guard` checks the operator bearer token of operator endpoints.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr

from shared.clock import Clock
from shared.sealing import derive_key

VERSION = "v1"
_bearer = HTTPBearer(auto_error=False)


class InvalidToken(ValueError):
    """Not a token this platform signed, or altered since."""


class ExpiredToken(InvalidToken):
    """Signed by the platform, but past its expiry."""


class SessionClaims(BaseModel):
    """Who the bearer of a verified token is."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    registrar_id: str
    permissions: frozenset[str]
    session_id: str
    expires_at: AwareDatetime

    def has(self, permission: str) -> bool:
        return permission in self.permissions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionTokens:
    def __init__(self, secret: SecretStr) -> None:
        self._key = derive_key(secret, "session-token")

    def _sign(self, signed_part: str) -> str:
        return _b64(hmac.new(self._key, signed_part.encode(), hashlib.sha256).digest())

    def issue(
        self, *, user_id: str, registrar_id: str, permissions: Iterable[str], expires_at: datetime,
        session_id: str | None = None,
    ) -> str:
        claims = {
            "sub": user_id,
            "rid": registrar_id,
            "perms": sorted(str(p) for p in permissions),
            "sid": session_id or secrets.token_urlsafe(16),
            "exp": int(expires_at.timestamp()),
        }
        body = f"{VERSION}.{_b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}"
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: datetime) -> SessionClaims:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise InvalidToken("not a platform session token")
        body = f"{parts[0]}.{parts[1]}"
        # compare before decoding anything: unsigned input is never parsed
        if not hmac.compare_digest(self._sign(body), parts[2]):
            raise InvalidToken("bad signature")
        try:
            raw = json.loads(_unb64(parts[1]))
            claims = SessionClaims(
                user_id=raw["sub"], registrar_id=raw["rid"], permissions=frozenset(raw["perms"]),
                session_id=raw["sid"], expires_at=datetime.fromtimestamp(int(raw["exp"]), UTC),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidToken("malformed claims") from exc
        if claims.expires_at <= now:
            raise ExpiredToken("the session has expired: log in again")
        return claims


Dependency = Callable[..., Awaitable[SessionClaims]]


class SessionAuth:
    """FastAPI dependencies that verify the caller's session token on this service's clock."""

    def __init__(self, secret: SecretStr, clock: Clock) -> None:
        self.tokens = SessionTokens(secret)
        self.clock = clock

    def requires(self, permission: str | None = None) -> Dependency:
        async def verified_user(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> SessionClaims:
            if credentials is None:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (POST /api/login at the registry)",
                                    headers={"WWW-Authenticate": "Bearer"})
            try:
                claims = self.tokens.verify(credentials.credentials, self.clock.now())
            except InvalidToken as exc:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                                    headers={"WWW-Authenticate": "Bearer"}) from exc
            if permission is not None and not claims.has(permission):
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"user [{claims.user_id}] lacks the permission {permission}")
            return claims

        return verified_user


def operator_guard(token: SecretStr) -> Callable[..., Awaitable[str]]:
    """The operator bearer token; an empty configured token turns the operator endpoints off."""

    async def operator(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
        expected = token.get_secret_value()
        if not expected or credentials is None or not secrets.compare_digest(credentials.credentials, expected):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "operator token required",
                                headers={"WWW-Authenticate": "Bearer"})
        return "operator"

    return operator
