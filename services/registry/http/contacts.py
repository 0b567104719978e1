"""Contact commands over HTTP: parse, call the command page (services/registry/contacts/), render."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.registry.commands import Actor
from services.registry.contacts.create import create_contact
from services.registry.contacts.delete import delete_contact
from services.registry.contacts.info import check_contacts, info_contact
from services.registry.contacts.model import ContactFields, NewContact
from services.registry.contacts.update import update_contact
from services.registry.http.auth import authentication
from services.registry.http.views import ContactView
from shared.runtime import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/contacts", tags=["contacts"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    @api.post("", status_code=201, response_model=ContactView, response_model_exclude_unset=True)
    async def create(body: NewContact, who: Who) -> dict[str, Any]:
        return await create_contact(ctx, who, body)

    @api.get("/check")
    async def check(who: Who, alias: Annotated[list[str], Query(max_length=20)]) -> dict[str, bool]:
        return await check_contacts(ctx, who, alias)

    @api.get("/{alias}", response_model=ContactView, response_model_exclude_unset=True)
    async def info(alias: str, who: Who) -> dict[str, Any]:
        return await info_contact(ctx, who, alias)

    @api.put("/{alias}", response_model=ContactView, response_model_exclude_unset=True)
    async def update(alias: str, body: ContactFields, who: Who) -> dict[str, Any]:
        return await update_contact(ctx, who, alias, body)

    @api.delete("/{alias}", status_code=204)
    async def delete(alias: str, who: Who) -> None:
        await delete_contact(ctx, who, alias)

    return api
