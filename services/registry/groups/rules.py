"""The check domain commands share about groups (Nomulus's *FlowUtils)."""

from __future__ import annotations

from services.registry.groups.model import KEYS, MAX_NAME_SERVERS, NS
from services.registry.results import CommandRefused, Result
from services.registry.uow import Reader


async def require_groups(tx: Reader, registrar_id: str, nsgroups: list[str], keygroups: list[str]) -> None:
    """For a domain: at most 9 name-server groups (2306); every group named exists and is the registrar's (2303)."""
    if len(nsgroups) > MAX_NAME_SERVERS:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"at most {MAX_NAME_SERVERS} name-server groups per domain")
    for kind, names in ((NS, nsgroups), (KEYS, keygroups)):
        if not names:
            continue
        found = {d["name"] for d in await tx[kind.collection].find(
            {"registrar_id": registrar_id, "name": {"$in": names}}, {"name": 1}).to_list()}
        for name in names:
            if name not in found:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: {kind.label} [{name}]")
