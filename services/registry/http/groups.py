"""Name-server group and key group commands over HTTP: parse, call the command page (services/registry/groups/),
render."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.registry.commands import Actor
from services.registry.groups.delete import delete_group
from services.registry.groups.info import info_group
from services.registry.groups.model import KEYS, NS, Key, KeyGroup, NameServerGroup
from services.registry.groups.save import save_group
from services.registry.http.auth import authentication
from services.registry.results import CommandRefused, Result
from shared.runtime import ServiceContext


class NameServerGroupView(BaseModel):
    name: str
    name_servers: list[str]


class KeyGroupView(BaseModel):
    name: str
    keys: list[Key]


# the lists (GET /api/nsgroups, /api/keygroups: a page with each group's domain count) are http/listing.py's
VIEWS: dict[str, type[BaseModel]] = {"nsgroups": NameServerGroupView, "keygroups": KeyGroupView}


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["name-server and key groups"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    for kind, model, path in ((NS, NameServerGroup, "nsgroups"), (KEYS, KeyGroup, "keygroups")):

        def routes(kind=kind, model=model, path=path) -> None:
            async def create(body: model, who: Who) -> dict[str, Any]:  # type: ignore[valid-type]
                return await save_group(ctx, who, kind, body, create=True)

            async def update(name: str, body: model, who: Who) -> dict[str, Any]:  # type: ignore[valid-type]
                if body.name != name:
                    raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "the name in the body must match the path")
                return await save_group(ctx, who, kind, body, create=False)

            async def info(name: str, who: Who) -> dict[str, Any]:
                return await info_group(ctx, who, kind, name)

            async def delete(name: str, who: Who) -> None:
                await delete_group(ctx, who, kind, name)

            view = VIEWS[path]
            api.post(f"/{path}", status_code=201, name=f"create_{kind.label}", response_model=view)(create)
            api.put(f"/{path}/{{name}}", name=f"update_{kind.label}", response_model=view)(update)
            api.get(f"/{path}/{{name}}", name=f"info_{kind.label}", response_model=view)(info)
            api.delete(f"/{path}/{{name}}", status_code=204, name=f"delete_{kind.label}")(delete)

        routes()
    return api
