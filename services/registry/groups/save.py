"""Group create and update (nsgroup-1.0 / keygroup-1.0 create and update; the update replaces the whole list).

Input: NameServerGroup or KeyGroup (the model checks the formats: 2005 / 2306 over EPP, 422 over HTTP).
Checks: create, the name is free for the registrar (2302); update, the registrar has the group (2303).
Event: nsgroup.changed / keygroup.changed (created true or false).
"""

from __future__ import annotations

from typing import Any

from services.registry.commands import Actor, execute
from services.registry.groups.model import GroupKind, KeyGroup, NameServerGroup, changed_event, group_values
from services.registry.results import CommandRefused, Result
from services.registry.store import unit_of_work
from services.registry.uow import DuplicateKey, Tx
from shared.runtime import ServiceContext


async def save_group(ctx: ServiceContext, actor: Actor, kind: GroupKind, group: NameServerGroup | KeyGroup, *,
                     create: bool) -> dict[str, Any]:
    async def run(_: str) -> dict[str, Any]:
        async def work(tx: Tx) -> None:
            key = {"registrar_id": actor.registrar_id, "name": group.name}
            if create:
                try:
                    await tx[kind.collection].insert_one(key | group_values(group) | {"created_at": ctx.clock.now()})
                except DuplicateKey as exc:
                    raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: {kind.label} [{group.name}]") from exc
            elif not await tx[kind.collection].update_one(key, {"$set": group_values(group)}):
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{group.name}]")
            tx.publish([actor.event(changed_event(kind, group, create), ctx)])

        await unit_of_work(ctx).run(work)
        return {"name": group.name, **group_values(group)}

    return await execute(ctx, actor, kind.new if create else kind.update, group.name, run)
