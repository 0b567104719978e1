"""Transfer commands over HTTP: ask for the transfer code, execute a transfer with it
(services/registry/domains/transfer.py)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.domains.model import Domain
from services.registry.domains.transfer import TransferRequest, request_transfer_code, transfer_domain
from services.registry.http.auth import authentication
from services.registry.http.domains import DomainView
from shared.runtime import ServiceContext


class TransferCodeRequest(BaseModel):
    url: str | None = Field(default=None, description="an address to include in the registrant's e-mail")


class TransferCodeResponse(BaseModel):
    sent_to: str = "the registrant's e-mail address"
    valid_until: datetime


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["transfers"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    @api.post("/domains/{name}/transfer-code", response_model=TransferCodeResponse)
    async def transfer_code(name: str, who: Who, body: TransferCodeRequest | None = None) -> TransferCodeResponse:
        """The code is mailed to the registrant only; it is never returned here."""
        url = (body or TransferCodeRequest()).url
        return TransferCodeResponse(valid_until=await request_transfer_code(ctx, who, name, url))

    @api.post("/domains/{name}/transfer", response_model=DomainView)
    async def transfer(name: str, body: TransferRequest, who: Who) -> DomainView:
        """Executed at once when the code is valid; the gaining registrar pays the transfer."""
        doc = await transfer_domain(ctx, who, name, body)
        return DomainView.of(Domain.from_document(doc), ctx.settings.override_name_servers)  # type: ignore[attr-defined]

    return api
