"""The registry's HTTP API (the registrar web site's commands). Transport only: it translates the request,
calls the command, and maps a refusal to an HTTP status with the EPP result code and message."""

# no `from __future__ import annotations`: FastAPI must resolve the local dependencies in the signatures

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.domains import Domain, create_domain, info_domain
from services.registry.registrars import authenticate_web
from services.registry.results import CommandRefused, Result
from shared.events import Channel
from shared.runtime import ServiceContext

_basic = HTTPBasic(realm="registry")

# how a refusal shows over HTTP; the body always carries the EPP code and message
_HTTP_STATUS = {
    Result.OBJECT_EXISTS: status.HTTP_409_CONFLICT,
    Result.OBJECT_DOES_NOT_EXIST: status.HTTP_404_NOT_FOUND,
    Result.AUTHORIZATION_ERROR: status.HTTP_403_FORBIDDEN,
    Result.STATUS_PROHIBITS: status.HTTP_409_CONFLICT,
    Result.ASSOCIATION_PROHIBITS: status.HTTP_409_CONFLICT,
}


class CreateDomainRequest(BaseModel):
    name: str = Field(min_length=1, max_length=253, examples=["example.be"])
    registrant: str | None = Field(default=None, max_length=64)


class DomainView(BaseModel):
    name: str
    tld: str
    registrar_id: str
    registrant: str | None
    registered_at: datetime
    status: str

    @classmethod
    def of(cls, d: Domain) -> "DomainView":
        return cls(**d.__dict__)


def refusal(exc: CommandRefused) -> HTTPException:
    return HTTPException(
        status_code=_HTTP_STATUS.get(exc.result, status.HTTP_422_UNPROCESSABLE_CONTENT),
        detail={"result_code": int(exc.result), "message": exc.message},
    )


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["registrar"])

    async def actor(request: Request, credentials: Annotated[HTTPBasicCredentials, Depends(_basic)]) -> Actor:
        if not await authenticate_web(ctx.db, credentials.username, credentials.password):
            # the same answer for an unknown registrar and a wrong password
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "wrong registrar id or password", headers={"WWW-Authenticate": "Basic"}
            )
        # until users exist (issue 3), the administrator user's id is the registrar id
        return Actor(credentials.username, credentials.username, Channel.WEB, request.state.correlation_id)

    @api.post("/domains", status_code=status.HTTP_201_CREATED, response_model=DomainView)
    async def post_domain(body: CreateDomainRequest, who: Annotated[Actor, Depends(actor)]) -> DomainView:
        try:
            return DomainView.of(await create_domain(ctx, who, body.name, body.registrant))
        except CommandRefused as exc:
            raise refusal(exc) from exc

    @api.get("/domains/{name}", response_model=DomainView)
    async def get_domain(name: str, who: Annotated[Actor, Depends(actor)]) -> DomainView:
        try:
            return DomainView.of(await info_domain(ctx, who.registrar_id, name))
        except CommandRefused as exc:
            raise refusal(exc) from exc

    return api
