"""Domain commands over HTTP: parse, call the command page (services/registry/domains/), render."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from services.registry.commands import Actor
from services.registry.domains.create import create_domain
from services.registry.domains.delete import delete_domain, reactivate_domain, undelete_domain
from services.registry.domains.info import info_domain
from services.registry.domains.model import Domain, HostAttr
from services.registry.domains.names import u_label
from services.registry.domains.transfer import domain_for_transfer
from services.registry.domains.update import update_domain
from services.registry.http.auth import authentication
from shared.runtime import ServiceContext


class UpdateDomainRequest(BaseModel):
    tech: list[str] = Field(default_factory=list, max_length=5)
    onsite: list[str] = Field(default_factory=list, max_length=5)
    name_servers: list[HostAttr] = Field(default_factory=list, max_length=9)
    nsgroups: list[str] = Field(default_factory=list, max_length=9)
    keygroups: list[str] = Field(default_factory=list, max_length=9)


class CreateDomainRequest(UpdateDomainRequest):
    """An update's fields, and the name and registrant a create adds."""

    name: str = Field(min_length=1, max_length=253, examples=["example.be"])
    registrant: str = Field(max_length=16, description="alias of a REGISTRANT contact of yours")


class DomainView(BaseModel):
    name: str = Field(description="the A-label form, as stored, published and returned over EPP",
                      examples=["xn--caf-dma.be"])
    u_label: str = Field(description="the name as its holder writes it: an IDN in U-labels, else the same as "
                         "name", examples=["café.be"])
    tld: str
    registrar_id: str
    registrant: str | None
    registered_at: datetime
    expires_at: datetime | None = Field(default=None, description="renewed automatically at the month's end")
    status: str
    name_servers: list[HostAttr]
    nsgroups: list[str]
    keygroups: list[str]
    delete_date: datetime | None = None
    available_on: datetime | None = Field(default=None, description="set while in quarantine")
    statuses: list[str] = Field(default_factory=list, description=(
        "clientTransferProhibited (yours), serverTransferProhibited / serverUpdateProhibited / "
        "serverDeleteProhibited (the registry's)"))
    name_servers_overridden: bool = Field(default=False, description=(
        "while true the domain publishes the registry's override name servers, shown in name_servers; "
        "its registered ones return when the override is lifted"))
    override_reason: str | None = None
    tech: list[str] = Field(default_factory=list, description="tech contacts (an update replaces them)")
    onsite: list[str] = Field(default_factory=list, description="onsite contacts (an update replaces them)")

    @classmethod
    def of(cls, d: Domain, override_name_servers: tuple[str, ...] = ()) -> "DomainView":
        hosts = [HostAttr(name=h) for h in override_name_servers] if d.override_reason else list(d.name_servers)
        return cls(**(d.__dict__ | {"u_label": u_label(d.name), "name_servers": hosts,
                                    "nsgroups": [] if d.override_reason else list(d.nsgroups),
                                    "keygroups": list(d.keygroups), "statuses": list(d.statuses),
                                    "tech": list(d.tech), "onsite": list(d.onsite),
                                    "name_servers_overridden": d.override_reason is not None}))


class DeletionScheduled(BaseModel):
    delete_date: datetime = Field(description="when the domain goes into quarantine (UTC)")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["domains"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    def view(d: Domain) -> DomainView:
        return DomainView.of(d, ctx.settings.override_name_servers)  # type: ignore[attr-defined]

    @api.post("/domains", status_code=status.HTTP_201_CREATED, response_model=DomainView)
    async def post_domain(body: CreateDomainRequest, who: Who) -> DomainView:
        return view(await create_domain(ctx, who, body.name, body.registrant, body.tech, body.onsite,
                                        body.name_servers, body.nsgroups, body.keygroups))

    @api.get("/domains/{name}", response_model=DomainView)
    async def get_domain(name: str, who: Who, transfer_code: Annotated[str | None, Query(
            description="another registrar's domain can be seen with its valid transfer code")] = None) -> DomainView:
        if transfer_code is not None:
            return view(Domain.from_document(await domain_for_transfer(ctx, who, name, transfer_code)))
        return view(await info_domain(ctx, who, name))

    @api.put("/domains/{name}", response_model=DomainView)
    async def put_domain(name: str, body: UpdateDomainRequest, who: Who) -> DomainView:
        await update_domain(ctx, who, name, tech=body.tech, onsite=body.onsite, name_servers=body.name_servers,
                            nsgroups=body.nsgroups, keygroups=body.keygroups)
        return view(await info_domain(ctx, who, name))

    @api.delete("/domains/{name}", response_model=DeletionScheduled)
    async def delete(name: str, who: Who, delete_date: AwareDatetime | None = None,
                     overwrite_delete_date: bool = False) -> DeletionScheduled:
        return DeletionScheduled(delete_date=await delete_domain(ctx, who, name, delete_date, overwrite_delete_date))

    @api.post("/domains/{name}/undelete", status_code=204)
    async def undelete(name: str, who: Who) -> None:
        await undelete_domain(ctx, who, name)

    @api.post("/domains/{name}/reactivate", status_code=204)
    async def reactivate(name: str, who: Who) -> None:
        await reactivate_domain(ctx, who, name)

    return api
