"""Group delete. Checks: the registrar has the group (2303); none of its domains uses it (2305).
Event: nsgroup.deleted / keygroup.deleted."""

from __future__ import annotations

from services.registry.commands import Actor, execute
from services.registry.groups.model import GroupKind, deleted_event
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.runtime import ServiceContext


async def delete_group(ctx: ServiceContext, actor: Actor, kind: GroupKind, name: str) -> None:
    async def run(_: str) -> None:
        async def work(tx: Tx) -> None:
            key = {"registrar_id": actor.registrar_id, "name": name}
            if not await tx[kind.collection].find_one(key, {"_id": 1}):
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
            linked = await tx[DOMAINS].count_documents({"registrar_id": actor.registrar_id, kind.domain_field: name})
            if linked:
                raise CommandRefused(Result.ASSOCIATION_PROHIBITS,
                                     f"{kind.label} [{name}] still linked to {linked} domain(s)")
            await tx[kind.collection].delete_one(key)
            tx.publish([actor.event(deleted_event(kind, name), ctx)])

        await unit_of_work(ctx).run(work)

    await execute(ctx, actor, kind.delete, name, run)
