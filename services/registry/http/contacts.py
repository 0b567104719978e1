"""Contact commands over HTTP."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.registry.commands import Actor
from services.registry.contacts import (
    ContactFields,
    NewContact,
    check_contacts,
    create_contact,
    delete_contact,
    info_contact,
    update_contact,
)
from services.registry.http.auth import authentication
from services.registry.http.errors import refusal
from services.registry.results import CommandRefused
from shared.runtime import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/contacts", tags=["contacts"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    async def run(call) -> Any:
        try:
            return await call
        except CommandRefused as exc:
            raise refusal(exc) from exc

    @api.post("", status_code=201)
    async def create(body: NewContact, who: Who) -> dict[str, Any]:
        return await run(create_contact(ctx, who, body))

    @api.get("/check")
    async def check(who: Who, alias: Annotated[list[str], Query(max_length=20)]) -> dict[str, bool]:
        return await run(check_contacts(ctx, who, alias))

    @api.get("/{alias}")
    async def info(alias: str, who: Who) -> dict[str, Any]:
        return await run(info_contact(ctx, who, alias))

    @api.put("/{alias}")
    async def update(alias: str, body: ContactFields, who: Who) -> dict[str, Any]:
        return await run(update_contact(ctx, who, alias, body))

    @api.delete("/{alias}", status_code=204)
    async def delete(alias: str, who: Who) -> None:
        await run(delete_contact(ctx, who, alias))

    return api
