"""Domain commands over HTTP."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.domains import Domain, HostAttr, create_domain, info_domain
from services.registry.http.auth import authentication
from services.registry.http.errors import refusal
from services.registry.results import CommandRefused
from shared.runtime import ServiceContext


class CreateDomainRequest(BaseModel):
    name: str = Field(min_length=1, max_length=253, examples=["example.be"])
    registrant: str = Field(max_length=16, description="alias of a REGISTRANT contact of yours")
    tech: list[str] = Field(default_factory=list, max_length=5)
    onsite: list[str] = Field(default_factory=list, max_length=5)
    name_servers: list[HostAttr] = Field(default_factory=list, max_length=9)
    nsgroups: list[str] = Field(default_factory=list, max_length=9)
    keygroups: list[str] = Field(default_factory=list, max_length=9)


class DomainView(BaseModel):
    name: str
    tld: str
    registrar_id: str
    registrant: str | None
    registered_at: datetime
    status: str
    name_servers: list[HostAttr]
    nsgroups: list[str]
    keygroups: list[str]

    @classmethod
    def of(cls, d: Domain) -> "DomainView":
        return cls(**(d.__dict__ | {"name_servers": list(d.name_servers), "nsgroups": list(d.nsgroups),
                                    "keygroups": list(d.keygroups)}))


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["domains"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    @api.post("/domains", status_code=status.HTTP_201_CREATED, response_model=DomainView)
    async def post_domain(body: CreateDomainRequest, who: Who) -> DomainView:
        try:
            return DomainView.of(await create_domain(ctx, who, body.name, body.registrant, body.tech, body.onsite,
                                                        body.name_servers, body.nsgroups, body.keygroups))
        except CommandRefused as exc:
            raise refusal(exc) from exc

    @api.get("/domains/{name}", response_model=DomainView)
    async def get_domain(name: str, who: Who) -> DomainView:
        try:
            return DomainView.of(await info_domain(ctx, who, name))
        except CommandRefused as exc:
            raise refusal(exc) from exc

    return api
