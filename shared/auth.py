"""Session tokens that only the registry can mint, and every service verifies.

An access token is a standard JWT signed with EdDSA (Ed25519) by the registry alone (`SigningKeys`, from
TOKEN_SIGNING_KEYS, newest first). Its header names the key (`kid`, the RFC 7638 thumbprint); its claims are
the user (`sub`), registrar (`rid`), permissions (`perms`), session id (`sid`), `iat`, `exp`, issuer and
audience. The registry publishes the public halves of all its keys at /.well-known/jwks.json; the other
services fetch that key set (`RemoteKeys`, cached, fetched again for a `kid` they do not know), so a key is
rotated without downtime: publish the new key first, sign with it, drop the old one once its tokens expired.
No other service holds a private key, so none can mint a session; any token whose `kid` is not in the key
set, or whose algorithm is not EdDSA, is refused.

Access tokens are short-lived (ACCESS_TOKEN_MINUTES); a refresh token (registry only) gets a new one. Logout,
a password change and a user's deletion publish `session.revoked`: each service keeps the revoked session
ids in a small deny-list with a TTL (`shared/revocation.py`), checked here.

`SessionAuth` gives FastAPI dependencies: 401 without a token or with a forged, expired or revoked one, 403
when the user lacks the permission. `operator_guard` checks the operator bearer token of operator endpoints.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr

from shared.clock import Clock
# the development signing key (a published value, refused in production): make run and the tests use it; a
# deployment sets TOKEN_SIGNING_KEYS on the registry and JWKS_URL everywhere else
from shared.settings import DEVELOPMENT_SIGNING_KEY

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
ISSUER = "registry"
AUDIENCE = "registry-platform"
_bearer = HTTPBearer(auto_error=False)


class InvalidToken(ValueError):
    """Not a token the registry signed, or altered since."""


class ExpiredToken(InvalidToken):
    """Signed by the registry, but past its expiry."""


class RevokedToken(InvalidToken):
    """Signed by the registry, but its session ended (logout, password change, user deleted)."""


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


def new_signing_key() -> str:
    """A fresh Ed25519 private key as TOKEN_SIGNING_KEYS takes it (32 random bytes, base64url)."""
    return _b64(secrets.token_bytes(32))


def _private_key(seed: SecretStr) -> Ed25519PrivateKey:
    text = seed.get_secret_value().strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("a token signing key is 32 bytes in base64url (python -m shared.auth new-key)") from exc
    if len(raw) != 32:
        raise ValueError("a token signing key is 32 bytes in base64url (python -m shared.auth new-key)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    """The public half as a JWK, its `kid` the RFC 7638 thumbprint (so the same key always has the same id)."""
    x = _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    thumbprint = _b64(hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x},
                                                separators=(",", ":"), sort_keys=True).encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "use": "sig", "alg": ALGORITHM}


class SigningKeys:
    """The registry's private keys, newest first: the newest signs, all are published."""

    def __init__(self, seeds: Sequence[SecretStr]) -> None:
        if not seeds:
            raise ValueError("TOKEN_SIGNING_KEYS is empty: the registry needs at least one key")
        self._keys = [_private_key(seed) for seed in seeds]
        self._jwks = {"keys": [public_jwk(k) for k in self._keys]}

    @property
    def kid(self) -> str:
        return self._jwks["keys"][0]["kid"]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self._jwks

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._keys[0], algorithm=ALGORITHM, headers={"kid": self.kid})


class KeySource(Protocol):
    """Where a verifier finds the registry's public keys."""

    async def key_for(self, kid: str) -> jwt.PyJWK | None: ...


class StaticKeys:
    """A fixed key set: the registry's own, or the development key's public half."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM) for k in jwks["keys"]}

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


def development_keys() -> StaticKeys:
    return StaticKeys(SigningKeys([SecretStr(DEVELOPMENT_SIGNING_KEY)]).jwks())


class RemoteKeys:
    """The registry's JWKS endpoint, cached for `cache_seconds`; an unknown `kid` fetches again (a new key
    was published), at most once per `min_refresh_seconds`, so made-up kids cannot hammer the registry."""

    def __init__(self, url: str, *, cache_seconds: float = 300.0, min_refresh_seconds: float = 2.0,
                 timeout: float = 5.0) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    def _fetch(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
            data: dict[str, Any] = json.load(response)
            return data

    async def refresh(self) -> None:
        jwks = await asyncio.to_thread(self._fetch)
        self._keys = {k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM) for k in jwks.get("keys", [])
                      if k.get("kty") == "OKP" and k.get("crv") == "Ed25519" and "kid" in k}
        self._fetched_at = time.monotonic()

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        age = time.monotonic() - self._fetched_at
        if age > self.cache_seconds or (kid not in self._keys and age > self.min_refresh_seconds):
            async with self._lock:
                age = time.monotonic() - self._fetched_at  # another request may have just fetched
                if age > self.cache_seconds or (kid not in self._keys and age > self.min_refresh_seconds):
                    try:
                        await self.refresh()
                    except OSError as exc:  # keep the cached keys: the registry may be restarting
                        log.warning("cannot fetch the registry's keys from %s: %s", self.url, exc)
        return self._keys.get(kid)


def key_source(jwks_url: str, cache_seconds: float = 300.0) -> KeySource:
    return RemoteKeys(jwks_url, cache_seconds=cache_seconds) if jwks_url else development_keys()


def _claims(raw: dict[str, Any]) -> SessionClaims:
    try:
        return SessionClaims(
            user_id=raw["sub"], registrar_id=raw["rid"], permissions=frozenset(raw["perms"]),
            session_id=raw["sid"], expires_at=datetime.fromtimestamp(int(raw["exp"]), UTC),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("malformed claims") from exc


async def verify_token(token: str, keys: KeySource, now: datetime) -> SessionClaims:
    """Check signature (EdDSA under a published key only), issuer, audience and expiry on the caller's clock."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("not a session token") from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidToken("not a session token of the registry (EdDSA with a kid)")
    key = await keys.key_for(kid)
    if key is None:
        raise InvalidToken("signed with a key the registry does not publish")
    try:
        # times are checked below on the service's clock (tests move it), not on the wall clock
        raw = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                         options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                  "require": ["exp", "iat", "sub", "sid"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"bad token: {exc}") from exc
    claims = _claims(raw)
    if claims.expires_at <= now:
        raise ExpiredToken("the access token has expired: refresh it (POST /api/token/refresh) or log in again")
    return claims


class SessionTokens:
    """Mints access tokens (the registry, with its signing keys) and verifies them with a key set."""

    def __init__(self, signing: SigningKeys | None = None, keys: KeySource | None = None) -> None:
        self.signing = signing
        self.keys: KeySource = keys or (StaticKeys(signing.jwks()) if signing else development_keys())

    def issue(
        self, *, user_id: str, registrar_id: str, permissions: Iterable[str], expires_at: datetime,
        session_id: str | None = None, issued_at: datetime | None = None,
    ) -> str:
        if self.signing is None:
            raise RuntimeError("only the registry mints session tokens")
        return self.signing.sign({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "rid": registrar_id,
            "perms": sorted(str(p) for p in permissions),
            "sid": session_id or secrets.token_urlsafe(16),
            "iat": int((issued_at or datetime.now(UTC)).timestamp()),
            "exp": int(expires_at.timestamp()),
        })

    async def verify(self, token: str, now: datetime) -> SessionClaims:
        return await verify_token(token, self.keys, now)


class RevocationCheck(Protocol):
    async def is_revoked(self, session_id: str) -> bool: ...


Dependency = Callable[..., Awaitable[SessionClaims]]


class SessionAuth:
    """FastAPI dependencies that verify the caller's access token on this service's clock, and refuse the
    sessions revoked since (the deny-list fed by `session.revoked`)."""

    def __init__(self, keys: KeySource, clock: Clock, revoked: RevocationCheck | None = None) -> None:
        self.tokens = SessionTokens(keys=keys)
        self.clock = clock
        self.revoked = revoked

    async def verify(self, token: str) -> SessionClaims:
        claims = await self.tokens.verify(token, self.clock.now())
        if self.revoked is not None and await self.revoked.is_revoked(claims.session_id):
            raise RevokedToken("the session has ended (logged out, password changed or user deleted): log in again")
        return claims

    def requires(self, permission: str | None = None) -> Dependency:
        async def verified_user(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> SessionClaims:
            if credentials is None:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (POST /api/login at the registry)",
                                    headers={"WWW-Authenticate": "Bearer"})
            try:
                claims = await self.verify(credentials.credentials)
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


if __name__ == "__main__":  # python -m shared.auth new-key: a key for TOKEN_SIGNING_KEYS
    print(new_signing_key())
