"""Group info and check. No events. (The paged lists, each group with the number of the registrar's domains
that use it, are services/registry/listing.py's.)

  info   the registrar's group (2303 for a name it does not have)
  check  which names the registrar can still give a new group (names are per registrar, so another's is
         free); a read like info, it runs as the info command type (there is no check type in the catalogue)
"""

from __future__ import annotations

from typing import Any

from services.registry.commands import Actor, execute
from services.registry.groups.model import GroupKind
from services.registry.results import CommandRefused, Result
from services.registry.store import unit_of_work
from services.registry.users.model import Permission
from shared.runtime import ServiceContext


async def info_group(ctx: ServiceContext, actor: Actor, kind: GroupKind, name: str) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        doc = await unit_of_work(ctx)[kind.collection].find_one({"registrar_id": actor.registrar_id, "name": name})
        if doc is None:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
        return {k: v for k, v in doc.items() if k not in {"_id", "registrar_id"}}

    return await execute(ctx, actor, kind.info, name, run, requires=Permission.MY_REGISTRATIONS)


async def check_groups(ctx: ServiceContext, actor: Actor, kind: GroupKind, names: list[str]) -> dict[str, bool]:
    async def run(_: str) -> dict[str, bool]:
        taken = {d["name"] for d in await unit_of_work(ctx)[kind.collection].find(
            {"registrar_id": actor.registrar_id, "name": {"$in": names}}, {"name": 1}).to_list()}
        return {name: name not in taken for name in names}

    return await execute(ctx, actor, kind.info, ",".join(names)[:200], run, requires=Permission.MY_REGISTRATIONS)
