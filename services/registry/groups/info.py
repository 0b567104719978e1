"""Group info, list and check. No events.

  info   the registrar's group (2303 for a name it does not have)
  list   the registrar's groups of one kind, each with the number of its domains that use it
  check  which names the registrar can still give a new group (names are per registrar, so another's is
         free); a read like info, it runs as the info command type (there is no check type in the catalogue)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.registry.commands import Actor, execute
from services.registry.groups.model import GroupKind
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS, unit_of_work
from services.registry.users.model import Permission
from shared.runtime import ServiceContext


async def info_group(ctx: ServiceContext, actor: Actor, kind: GroupKind, name: str) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        doc = await unit_of_work(ctx)[kind.collection].find_one({"registrar_id": actor.registrar_id, "name": name})
        if doc is None:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
        return {k: v for k, v in doc.items() if k not in {"_id", "registrar_id"}}

    return await execute(ctx, actor, kind.info, name, run, requires=Permission.MY_REGISTRATIONS)


async def list_groups(ctx: ServiceContext, actor: Actor, kind: GroupKind) -> list[dict[str, Any]]:
    """The registrar's groups of one kind, by name, each with what info shows and how many domains use it."""
    uow = unit_of_work(ctx)

    async def run(_: str) -> list[dict[str, Any]]:
        docs = await uow[kind.collection].find({"registrar_id": actor.registrar_id}).sort("name", 1).to_list()
        names = [d["name"] for d in docs]
        using = await uow[DOMAINS].find({"registrar_id": actor.registrar_id, kind.domain_field: {"$in": names}},
                                        {kind.domain_field: 1}).to_list() if names else []
        counts = Counter(name for d in using for name in d.get(kind.domain_field, []))
        return [{k: v for k, v in d.items() if k not in {"_id", "registrar_id"}} | {"domains": counts[d["name"]]}
                for d in docs]

    return await execute(ctx, actor, kind.info, actor.registrar_id, run, requires=Permission.MY_REGISTRATIONS)


async def check_groups(ctx: ServiceContext, actor: Actor, kind: GroupKind, names: list[str]) -> dict[str, bool]:
    async def run(_: str) -> dict[str, bool]:
        taken = {d["name"] for d in await unit_of_work(ctx)[kind.collection].find(
            {"registrar_id": actor.registrar_id, "name": {"$in": names}}, {"name": 1}).to_list()}
        return {name: name not in taken for name in names}

    return await execute(ctx, actor, kind.info, ",".join(names)[:200], run, requires=Permission.MY_REGISTRATIONS)
