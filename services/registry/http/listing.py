"""Paged, searchable lists of the registrar's domains, contacts and groups (services/registry/listing.py)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.registry.commands import Actor
from services.registry.http.auth import authentication
from services.registry.http.views import ContactPage, DomainPage, KeyGroupPage, NameServerGroupPage
from services.registry.listing import CONTACTS, DOMAINS, KEYGROUPS, MAX_PAGE, NSGROUPS, Listing, page_of
from shared.runtime import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["lists"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]
    Prefix = Annotated[str, Query(max_length=253, description="names starting with this")]
    After = Annotated[str | None, Query(max_length=253, description="the `next` of the previous page")]
    Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]

    def route(path: str, listing: Listing, page: type[BaseModel]) -> None:
        async def listed(who: Who, q: Prefix = "", after: After = None, limit: Limit = 50) -> dict[str, Any]:
            return await page_of(ctx, who, listing, q, after, limit)

        api.get(path, name=f"list_{path.strip('/')}", response_model=page, response_model_exclude_unset=True)(listed)

    route("/domains", DOMAINS, DomainPage)
    route("/contacts", CONTACTS, ContactPage)
    route("/nsgroups", NSGROUPS, NameServerGroupPage)
    route("/keygroups", KEYGROUPS, KeyGroupPage)
    return api
