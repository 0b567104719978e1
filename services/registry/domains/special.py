"""The two special states of a registered domain (digest 4.1), set and lifted by registry operators.

- On hold: an ADR (CEPANI) or court case is pending. The domain cannot be transferred or deleted (transfer.py,
  delete.py) and keeps working: it stays delegated. Event: domain.hold_changed.
- Out of service: its registrar's contract ended. It is not renewed at its expiry (renewal.py), leaves the zone at
  the end of its expiry month, and the registrant has two more months to move it to another registrar; then it is
  released (lifecycle.py: domain.released), unless it is on hold. A transfer brings it back into service, as does
  an operator. Event: domain.service_changed (with `expires_at`: the publication service decides the month from it).

Only a REGISTERED domain takes either state (a name in quarantine is not in use: 2304). Setting a state the domain
already has, or lifting one it does not have, changes nothing and publishes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domains.model import REGISTERED
from services.registry.domains.rules import existing_domain
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS, unit_of_work
from services.registry.uow import Tx
from shared.clock import brussels_month_start_after
from shared.events import EventEnvelope, new_event
from shared.events.domains import DomainHoldChanged, DomainServiceChanged
from shared.runtime import ServiceContext


# digest 4.1: out of the zone at the end of the expiry month, then two months to move
RELEASE_MONTHS_AFTER_EXPIRY_MONTH = 1 + 2


def release_at(expires_at: datetime) -> datetime:
    """When an out-of-service domain that expired at `expires_at` is released (00:00 Brussels time)."""
    return brussels_month_start_after(expires_at, RELEASE_MONTHS_AFTER_EXPIRY_MONTH)


def release_due(doc: dict[str, Any], now: datetime) -> bool:
    """Whether the lifecycle run at `now` releases this out-of-service domain. A pending case keeps it (on hold:
    no deletion either)."""
    expires_at = doc.get("expires_at")
    return (doc.get("status") == REGISTERED and bool(doc.get("out_of_service_since")) and not doc.get("on_hold")
            and expires_at is not None and now >= release_at(expires_at))


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=200, description="the case: e.g. its CEPANI or court reference")


async def _registered(tx: Tx, name: str, what: str) -> dict[str, Any]:
    doc = await existing_domain(tx, name)
    if doc["status"] != REGISTERED:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"domain [{name}] is in {doc['status'].lower()}: it cannot be {what}")
    return doc


def _event(ctx: ServiceContext, payload: Any, doc: dict[str, Any], correlation_id: str | None) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=doc["registrar_id"], correlation_id=correlation_id, clock=ctx.clock)


async def set_on_hold(ctx: ServiceContext, name: str, on_hold: bool, reason: str | None,
                      correlation_id: str | None) -> None:
    """Checks: the domain exists (2303) and is registered (2304)."""

    async def work(tx: Tx) -> None:
        doc = await _registered(tx, name, "put on hold" if on_hold else "taken off hold")
        if bool(doc.get("on_hold")) == on_hold:
            return
        update = {"$set": {"on_hold": True, "hold_reason": reason}} if on_hold else \
            {"$unset": {"on_hold": "", "hold_reason": ""}}
        await tx[DOMAINS].update_one({"_id": name}, update)
        tx.publish([_event(ctx, DomainHoldChanged(name=name, on_hold=on_hold, reason=reason if on_hold else None),
                           doc, correlation_id)])

    await unit_of_work(ctx).run(work)


async def set_out_of_service(ctx: ServiceContext, name: str, out_of_service: bool, correlation_id: str | None) -> None:
    """Checks: the domain exists (2303) and is registered (2304)."""

    async def work(tx: Tx) -> None:
        doc = await _registered(tx, name, "taken out of service" if out_of_service else "put back into service")
        if bool(doc.get("out_of_service_since")) == out_of_service:
            return
        now = ctx.clock.now()
        update = {"$set": {"out_of_service_since": now}} if out_of_service else \
            {"$unset": {"out_of_service_since": ""}}
        await tx[DOMAINS].update_one({"_id": name}, update)
        tx.publish([_event(ctx, DomainServiceChanged(name=name, out_of_service=out_of_service,
                                                     since=now if out_of_service else None,
                                                     expires_at=doc.get("expires_at")), doc, correlation_id)])

    await unit_of_work(ctx).run(work)


def back_in_service(ctx: ServiceContext, doc: dict[str, Any], correlation_id: str | None) -> list[EventEnvelope[Any]]:
    """A transfer of an out-of-service domain brings it back into service (its new registrar has a contract):
    the event to publish with the transfer (the caller unsets the field)."""
    if not doc.get("out_of_service_since"):
        return []
    return [_event(ctx, DomainServiceChanged(name=doc["_id"], out_of_service=False, expires_at=doc.get("expires_at")),
                   doc, correlation_id)]
