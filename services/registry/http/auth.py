"""Authentication: users log in (password, and a 2-step code where set up) for a bearer token; registry
operators use the operator token. Every login attempt is recorded."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.settings import RegistrySettings
from services.registry.store import unit_of_work
from services.registry.users.accounts import Users
from shared.auth import SessionTokens
from shared.events import Channel
from shared.runtime import ServiceContext

_bearer = HTTPBearer(auto_error=False)


class LoginRequest(BaseModel):
    user_id: str = Field(max_length=64)
    password: str = Field(max_length=128)
    code: str | None = Field(default=None, max_length=8, description="2-step code or temporary key")


class LoginResponse(BaseModel):
    token: str
    user_id: str
    registrar_id: str
    permissions: list[str]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authentication(ctx: ServiceContext):
    tokens = SessionTokens(ctx.settings.internal_secret)  # signed: every service can verify them
    users: Users | None = None

    def _users() -> Users:  # the database is there once the service started
        nonlocal users
        users = users or Users(unit_of_work(ctx), tokens)
        return users

    async def actor(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Actor:
        user = await _users().by_token(credentials.credentials, ctx.clock.now()) if credentials else None
        if user is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first (POST /api/login)",
                                headers={"WWW-Authenticate": "Bearer"})
        return Actor.of(user, Channel.WEB, request.state.correlation_id)

    async def operator(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
        settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
        expected = settings.operator_token.get_secret_value()
        if not expected or credentials is None or not secrets.compare_digest(credentials.credentials, expected):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "operator token required",
                                headers={"WWW-Authenticate": "Bearer"})
        return "operator"

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
    async def login(body: LoginRequest, request: Request) -> LoginResponse:
        user, token = await users().login(body.user_id, body.password, body.code, client_ip(request), ctx.clock.now())
        return LoginResponse(token=token, user_id=user.user_id, registrar_id=user.registrar_id,
                             permissions=sorted(user.permissions))

    @api.post("/logout", status_code=204)
    async def logout(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                     who: Annotated[Actor, Depends(actor)]) -> None:
        if credentials:
            await users().logout(credentials.credentials)

    return api
