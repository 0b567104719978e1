"""Authentication: users log in (password, and a 2-step code where set up) for a short-lived access token
and a refresh token; registry staff sign in with their own accounts (http/staff.py; automation uses the
operator token). Every login attempt is recorded. The registry alone signs access tokens;
/.well-known/jwks.json publishes its public keys for the other services."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.http.staff import registry_staff_guard
from services.registry.registrars.standing import shared_standing
from services.registry.results import CommandRefused
from services.registry.settings import RegistrySettings
from services.registry.store import unit_of_work
from services.registry.uow import Tx
from services.registry.http.login_steps import sign_in_again, two_step_required
from services.registry.users.accounts import IssuedTokens, SignInExpired, TwoStepRequired, Users
from services.registry.users.model import User
from shared.auth import SessionTokens, SigningKeys
from shared.events import Channel
from shared.runtime import ServiceContext

_bearer = HTTPBearer(auto_error=False)


class LoginRequest(BaseModel):
    user_id: str = Field(max_length=64)
    password: str = Field(max_length=128)
    code: str | None = Field(default=None, max_length=8, description="2-step code or temporary key")


class CodeStep(BaseModel):
    pending: str = Field(max_length=64, description="the pending token the password step answered")
    code: str = Field(min_length=1, max_length=8, description="2-step code or temporary key")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=256)


class LoginResponse(BaseModel):
    token: str = Field(description="the access token (a JWT): send it as `Authorization: Bearer` to any service")
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="POST it to /api/token/refresh for a new access token; used once")
    user_id: str
    registrar_id: str
    permissions: list[str]

    @classmethod
    def of(cls, user: User, issued: IssuedTokens, now: datetime) -> "LoginResponse":
        return cls(token=issued.access_token, expires_in=max(0, int((issued.access_expires_at - now).total_seconds())),
                   refresh_token=issued.refresh_token, user_id=user.user_id, registrar_id=user.registrar_id,
                   permissions=sorted(user.permissions))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_tokens(ctx: ServiceContext) -> SessionTokens:
    """The registry's signing keys (only the registry has them), built once per service."""
    tokens = ctx.extras.get("session_tokens")
    if tokens is None:
        settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
        tokens = ctx.extras["session_tokens"] = SessionTokens(SigningKeys(settings.token_signing_keys))
    return tokens


def authentication(ctx: ServiceContext):
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    tokens = session_tokens(ctx)
    users: Users | None = None

    def _users() -> Users:  # the database is there once the service started
        nonlocal users
        users = users or Users(unit_of_work(ctx), tokens, access_token_minutes=settings.access_token_minutes,
                               session_hours=settings.session_hours)
        return users

    async def actor(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Actor:
        user = await _users().by_token(credentials.credentials, ctx.clock.now()) if credentials else None
        if user is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (POST /api/login)",
                                headers={"WWW-Authenticate": "Bearer"})
        # the registrar's standing as this process's EPP sessions see it, not read for each request
        return Actor.of(user, Channel.WEB, request.state.correlation_id, shared_standing(ctx, user.registrar_id))

    # staff (named accounts, audited) or the operator token of automation: services/registry/http/staff.py
    operator = registry_staff_guard(ctx)

    return actor, operator, _users


def registrar_of(ctx: ServiceContext) -> Callable[[Request], Awaitable[Actor | None]]:
    """The registrar user a request's bearer token stands for, or None (no token, an expired one, the
    operator's): whom a refusal is scored against."""
    actor, _, _ = authentication(ctx)

    async def of(request: Request) -> Actor | None:
        try:
            return await actor(request, await _bearer(request))
        except HTTPException:
            return None

    return of


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["authentication"])
    actor, _, users = authentication(ctx)

    @api.post("/login", response_model=LoginResponse)
    async def login(body: LoginRequest, request: Request) -> Any:
        now = ctx.clock.now()
        try:
            user, issued = await users().login(body.user_id, body.password, body.code, client_ip(request), now)
        except TwoStepRequired as exc:
            return two_step_required(exc.message, exc.pending, now)
        return LoginResponse.of(user, issued, now)

    @api.post("/login/code", response_model=LoginResponse)
    async def login_code(body: CodeStep, request: Request) -> Any:
        now = ctx.clock.now()
        try:
            user, issued = await users().login_with_code(body.pending, body.code, client_ip(request), now)
        except SignInExpired as exc:
            return sign_in_again(exc.message)
        return LoginResponse.of(user, issued, now)

    @api.post("/token/refresh", response_model=LoginResponse)
    async def refresh(body: RefreshRequest) -> LoginResponse:
        try:
            now = ctx.clock.now()
            user, issued = await users().refresh(body.refresh_token, now)
        except CommandRefused as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.message,
                                headers={"WWW-Authenticate": "Bearer"}) from exc
        return LoginResponse.of(user, issued, now)

    @api.post("/logout", status_code=204)
    async def logout(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                     who: Annotated[Actor, Depends(actor)]) -> None:
        """Ends the session here at once, and at every other service as soon as they read session.revoked."""
        if credentials is None:
            return

        token = credentials.credentials

        async def work(tx: Tx) -> None:
            revoked = await users().logout(tx, token, ctx.clock.now())
            if revoked:
                tx.publish([who.event(revoked, ctx)])

        await unit_of_work(ctx).run(work)

    return api


class PublicKey(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    x: str = Field(description="the public key, base64url")
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])


class KeySet(BaseModel):
    """A JSON Web Key Set (RFC 7517)."""

    keys: list[PublicKey] = Field(description="newest first")


def keys_router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["authentication"])

    @api.get("/.well-known/jwks.json", response_model=KeySet)
    async def jwks() -> JSONResponse:
        """The public keys that verify the registry's access tokens (newest first; `kid` in each token)."""
        return JSONResponse(session_tokens(ctx).signing.jwks(),  # type: ignore[union-attr]
                            headers={"Cache-Control": "public, max-age=300"})

    return api
