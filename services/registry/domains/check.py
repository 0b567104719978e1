"""Domain check: whether names can be registered, and why not (digest 4.1, check-domain v2.0).

A name is unavailable while it exists in the registry: registered ("in use") or in quarantine (with the
date it becomes available). An invalid name, or a TLD the registry does not serve, is reported as
such rather than refused, so that one bad name in a list does not fail the whole check. No events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.registry.commands import Actor, execute
from services.registry.domains.model import QUARANTINE
from services.registry.domains.names import parse_domain_name
from services.registry.results import CommandRefused
from services.registry.store import DOMAINS, unit_of_work
from services.registry.users.model import Permission
from shared.events import CommandType
from shared.runtime import ServiceContext

MAX_NAMES = 100


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    reason: str | None = None  # "in use", "quarantine", "not valid: …"
    available_on: datetime | None = None
    statuses: tuple[str, ...] = ()


async def check_domains(ctx: ServiceContext, actor: Actor, raw_names: list[str]) -> list[Availability]:
    async def run(_: str) -> list[Availability]:
        tlds = ctx.settings.tlds  # type: ignore[attr-defined]
        parsed: dict[str, str | CommandRefused] = {}
        for raw in raw_names[:MAX_NAMES]:
            try:
                parsed[raw] = parse_domain_name(raw, tlds)[0]
            except CommandRefused as exc:
                parsed[raw] = exc
        valid = [n for n in parsed.values() if isinstance(n, str)]
        found = {d["_id"]: d for d in await unit_of_work(ctx)[DOMAINS].find(
            {"_id": {"$in": valid}}, {"status": 1, "available_on": 1, "statuses": 1}).to_list()}
        result = []
        for raw, name in parsed.items():
            if isinstance(name, CommandRefused):
                result.append(Availability(raw, False, f"not valid: {name.message}"))
            elif name not in found:
                result.append(Availability(name, True))
            elif found[name]["status"] == QUARANTINE:
                result.append(Availability(name, False, "quarantine", found[name].get("available_on"),
                                           tuple(found[name].get("statuses", []))))
            else:
                result.append(Availability(name, False, "in use", None, tuple(found[name].get("statuses", []))))
        return result

    return await execute(ctx, actor, CommandType.CHECK_DOMAIN, ",".join(raw_names)[:255], run,
                         requires=Permission.MY_REGISTRATIONS)
