"""Locks on a domain (digest 4.5, seed on domain name locking) and complaints against client locks.

- clientTransferProhibited: set and cleared by the sponsoring registrar, only at the registrant's request,
  which the lock records (the registrar must be able to show it). Refused while the registry has
  withdrawn the registrar's lock function; withdrawing it also lifts the registrar's existing locks.
- serverTransferProhibited / serverUpdateProhibited / serverDeleteProhibited: set and cleared by the
  registry (Domain Guard). The registry can also clear a client lock.
- A complaint against a client lock asks the registrar to show the registrant's request within 48 hours.
  The registrar answers with that evidence or lifts the lock; an operator upholds or rejects the
  evidence (rejected: the registry lifts the lock); unanswered at the deadline, the lifecycle job lifts
  the lock. The registrar sees how many complaints it has had.

A locked domain gets no transfer code and cannot be transferred (domains/transfer.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.registry.commands import Actor, execute
from services.registry.domains.model import CLIENT_LOCK, SERVER_STATUSES
from services.registry.domains.names import lookup_name
from services.registry.domains.rules import existing_domain, own_domain, refuse_if_prohibited, refuse_if_status
from services.registry.results import CommandRefused, Result
from services.registry.store import COMPLAINTS, DOMAINS, REGISTRARS, unit_of_work
from services.registry.uow import Tx
from services.registry.users.model import Permission
from shared.events import CommandType, EventEnvelope, new_event
from shared.events.domains import DomainLocked, DomainUnlocked, LockComplaintClosed, LockComplaintFiled
from shared.runtime import ServiceContext

T = TypeVar("T")
COMPLAINT_HOURS = 48


class ComplaintStatus(StrEnum):
    OPEN = "OPEN"                      # waiting for the registrar's evidence
    ANSWERED = "ANSWERED"              # evidence given, waiting for an operator
    UPHELD = "UPHELD"                  # the evidence holds: the lock stays
    LIFTED = "LIFTED"                  # the registrar lifted the lock itself
    LIFTED_BY_REGISTRY = "LIFTED_BY_REGISTRY"  # evidence rejected, or none by the deadline


OPEN_STATUSES = (ComplaintStatus.OPEN.value, ComplaintStatus.ANSWERED.value)


class LockRequest(BaseModel):
    """What the client lock rests on: the registrant's request, which the registrar keeps."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    registrant_request: str = Field(min_length=3, max_length=500, description=(
        "reference of the registrant's request to lock (ticket number, signed form, e-mail id)"))


def _event(ctx: ServiceContext, payload: Any, registrar_id: str, correlation_id: str | None) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock)


async def _close_complaints(ctx: ServiceContext, tx: Tx, doc: dict[str, Any], outcome: ComplaintStatus,
                            correlation_id: str | None) -> list[EventEnvelope[Any]]:
    open_ = await tx[COMPLAINTS].find({"name": doc["_id"], "status": {"$in": OPEN_STATUSES}}).to_list()
    for complaint in open_:
        await tx[COMPLAINTS].update_one({"_id": complaint["_id"]}, {"$set": {
            "status": outcome.value, "closed_at": ctx.clock.now()}})
    return [_event(ctx, LockComplaintClosed(name=doc["_id"], complaint_id=c["_id"], outcome=outcome.value),
                   c["registrar_id"], correlation_id) for c in open_]


async def _clear(ctx: ServiceContext, tx: Tx, doc: dict[str, Any], status: str, *, by_operator: bool,
                 reason: str | None, correlation_id: str | None, outcome: ComplaintStatus) -> list[EventEnvelope[Any]]:
    update: dict[str, Any] = {"$pull": {"statuses": status}}
    if status == CLIENT_LOCK:
        update["$unset"] = {"lock_request": ""}
    await tx[DOMAINS].update_one({"_id": doc["_id"]}, update)
    events = [_event(ctx, DomainUnlocked(name=doc["_id"], status=status, by_operator=by_operator, reason=reason),
                     doc["registrar_id"], correlation_id)]
    if status == CLIENT_LOCK:
        events += await _close_complaints(ctx, tx, doc, outcome, correlation_id)
    return events


async def _operator_command(ctx: ServiceContext, work: Callable[[Tx], Awaitable[T]]) -> T:
    """An operator's command: its own unit of work (operators act outside the registrar command layer)."""
    return await unit_of_work(ctx).run(work)


# -- the sponsoring registrar's client lock ----------------------------------------------------------------------

async def lock_domain(ctx: ServiceContext, actor: Actor, name: str, request: LockRequest) -> None:
    """Checks: the registry has not withdrawn the lock function (2201); the domain is the registrar's
    (2303 / 2304); no serverUpdateProhibited, not in quarantine, not locked already (2304). Event: domain.locked."""
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def work(tx: Tx) -> None:
            registrar = await tx[REGISTRARS].find_one({"_id": actor.registrar_id}, {"lock_function": 1})
            if registrar is None or not registrar.get("lock_function", True):
                raise CommandRefused(Result.AUTHORIZATION_ERROR,
                                     f"the registry has withdrawn the lock function from registrar [{actor.registrar_id}]")
            doc = await own_domain(tx, actor, name)
            refuse_if_prohibited(doc, "serverUpdateProhibited")
            if CLIENT_LOCK in doc.get("statuses", []):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] already has status ({CLIENT_LOCK})")
            await tx[DOMAINS].update_one({"_id": name}, {
                "$addToSet": {"statuses": CLIENT_LOCK},
                "$set": {"lock_request": {"reference": request.registrant_request, "user_id": actor.user_id,
                                          "at": ctx.clock.now()}}})
            tx.publish([actor.event(DomainLocked(name=name, status=CLIENT_LOCK, by_operator=False), ctx)])

        await unit_of_work(ctx).run(work)

    await execute(ctx, actor, CommandType.LOCK_DOMAIN, name, run)


async def unlock_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    """Allowed even when the lock function is withdrawn: a registrant must always be able to leave.
    Checks: the registrar's domain (2303 / 2304); no serverUpdateProhibited; locked (2304).
    Events: domain.unlocked, lock_complaint.closed for an open complaint (LIFTED)."""
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def work(tx: Tx) -> None:
            doc = await own_domain(tx, actor, name)
            refuse_if_status(doc, "serverUpdateProhibited")
            if CLIENT_LOCK not in doc.get("statuses", []):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] does not have status ({CLIENT_LOCK})")
            tx.publish(await _clear(ctx, tx, doc, CLIENT_LOCK, by_operator=False, reason=None,
                                    correlation_id=actor.correlation_id, outcome=ComplaintStatus.LIFTED))

        await unit_of_work(ctx).run(work)

    await execute(ctx, actor, CommandType.UNLOCK_DOMAIN, name, run)


# -- the registry's powers (operator API) -------------------------------------------------------------------------

async def set_server_status(ctx: ServiceContext, name: str, status: str, correlation_id: str) -> None:
    """Checks: a server status (2306); the domain exists (2303). Setting it again changes nothing and says
    nothing. Event: domain.locked (by_operator)."""
    if status not in SERVER_STATUSES:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"unknown server status [{status}]: one of {SERVER_STATUSES}")

    async def work(tx: Tx) -> None:
        doc = await existing_domain(tx, name)
        if status in doc.get("statuses", []):
            return
        await tx[DOMAINS].update_one({"_id": name}, {"$addToSet": {"statuses": status}})
        tx.publish([_event(ctx, DomainLocked(name=name, status=status, by_operator=True), doc["registrar_id"],
                           correlation_id)])

    await _operator_command(ctx, work)


async def clear_status(ctx: ServiceContext, name: str, status: str, correlation_id: str) -> None:
    """Clear a server status, or the registrar's clientTransferProhibited (the registry's power)."""

    async def work(tx: Tx) -> None:
        tx.publish(await clear_status_by_registry(ctx, tx, name, status, correlation_id, reason="cleared_by_registry"))

    await _operator_command(ctx, work)


async def clear_status_by_registry(ctx: ServiceContext, tx: Tx, name: str, status: str, correlation_id: str | None,
                                   reason: str | None = None) -> list[EventEnvelope[Any]]:
    if status not in (*SERVER_STATUSES, CLIENT_LOCK):
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"unknown status [{status}]")
    doc = await existing_domain(tx, name)
    if status not in doc.get("statuses", []):
        return []
    return await _clear(ctx, tx, doc, status, by_operator=True, reason=reason, correlation_id=correlation_id,
                        outcome=ComplaintStatus.LIFTED_BY_REGISTRY)


async def lift_all_client_locks(ctx: ServiceContext, tx: Tx, registrar_id: str,
                                correlation_id: str) -> list[EventEnvelope[Any]]:
    """When the lock function is withdrawn, the registrar's existing client locks go with it."""
    events: list[EventEnvelope[Any]] = []
    for doc in await tx[DOMAINS].find({"registrar_id": registrar_id, "statuses": CLIENT_LOCK}).to_list():
        events += await _clear(ctx, tx, doc, CLIENT_LOCK, by_operator=True, reason="lock_function_withdrawn",
                               correlation_id=correlation_id, outcome=ComplaintStatus.LIFTED_BY_REGISTRY)
    return events


# -- complaints ----------------------------------------------------------------------------------------------------

async def file_complaint(ctx: ServiceContext, name: str, note: str, correlation_id: str) -> dict[str, Any]:
    """An operator files a complaint against a client lock. Checks: the domain exists (2303) and has a client
    lock (2304); no complaint about it is open (2302). Event: lock_complaint.filed (the registrar has 48 hours)."""

    async def work(tx: Tx) -> dict[str, Any]:
        doc = await existing_domain(tx, name)
        if CLIENT_LOCK not in doc.get("statuses", []):
            raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] has no client lock to complain about")
        if await tx[COMPLAINTS].find_one({"name": name, "status": {"$in": OPEN_STATUSES}}, {"_id": 1}):
            raise CommandRefused(Result.OBJECT_EXISTS, f"a complaint about the lock on [{name}] is already open")
        now = ctx.clock.now()
        complaint = {"_id": uuid.uuid4().hex, "name": name, "registrar_id": doc["registrar_id"], "note": note,
                     "filed_at": now, "deadline": now + timedelta(hours=COMPLAINT_HOURS),
                     "status": ComplaintStatus.OPEN.value, "lock_request": doc.get("lock_request")}
        await tx[COMPLAINTS].insert_one(complaint)
        tx.publish([_event(ctx, LockComplaintFiled(name=name, complaint_id=complaint["_id"],
                                                   deadline=complaint["deadline"]),
                           doc["registrar_id"], correlation_id)])
        return complaint_view(complaint)

    return await _operator_command(ctx, work)


async def answer_complaint(ctx: ServiceContext, actor: Actor, name: str, evidence: str) -> dict[str, Any]:
    """The registrar shows the registrant's request the lock rests on. Checks: an open complaint of the
    registrar's about the name (2303), before its deadline (2304). No event."""
    name = lookup_name(name)

    async def run(_: str) -> dict[str, Any]:
        async def work(tx: Tx) -> dict[str, Any]:
            complaint = await tx[COMPLAINTS].find_one(
                {"name": name, "registrar_id": actor.registrar_id, "status": ComplaintStatus.OPEN.value})
            if complaint is None:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"no open lock complaint about [{name}]")
            if complaint["deadline"] <= ctx.clock.now():
                raise CommandRefused(Result.STATUS_PROHIBITS, f"the complaint about [{name}] passed its deadline")
            values = {"status": ComplaintStatus.ANSWERED.value, "evidence": evidence, "answered_at": ctx.clock.now(),
                      "answered_by": actor.user_id}
            await tx[COMPLAINTS].update_one({"_id": complaint["_id"]}, {"$set": values})
            return complaint_view(complaint | values)

        return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, CommandType.UPD_DOMAIN, name, run)


async def decide_complaint(ctx: ServiceContext, complaint_id: str, upheld: bool, correlation_id: str) -> None:
    """An operator decides: upheld, the lock stays; rejected, the registry lifts it. Checks: the complaint
    exists (2303) and is open (2304). Events: lock_complaint.closed, or domain.unlocked and the closing."""

    async def work(tx: Tx) -> None:
        complaint = await tx[COMPLAINTS].find_one({"_id": complaint_id})
        if complaint is None:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"no lock complaint [{complaint_id}]")
        if complaint["status"] not in OPEN_STATUSES:
            raise CommandRefused(Result.STATUS_PROHIBITS,
                                 f"the complaint [{complaint_id}] is closed ({complaint['status']})")
        if upheld:
            await tx[COMPLAINTS].update_one({"_id": complaint_id}, {"$set": {
                "status": ComplaintStatus.UPHELD.value, "closed_at": ctx.clock.now()}})
            tx.publish([_event(ctx, LockComplaintClosed(name=complaint["name"], complaint_id=complaint_id,
                                                        outcome=ComplaintStatus.UPHELD.value),
                               complaint["registrar_id"], correlation_id)])
            return
        tx.publish(await clear_status_by_registry(ctx, tx, complaint["name"], CLIENT_LOCK, correlation_id,
                                                  reason="complaint_evidence_rejected"))

    await _operator_command(ctx, work)


async def lift_unanswered(ctx: ServiceContext, tx: Tx, complaint_id: str, now: datetime) -> list[EventEnvelope[Any]]:
    """The lifecycle job's step for one complaint past its deadline without an answer."""
    complaint = await tx[COMPLAINTS].find_one({"_id": complaint_id})
    if complaint is None or complaint["status"] != ComplaintStatus.OPEN.value or complaint["deadline"] > now:
        return []  # answered or closed meanwhile
    return await clear_status_by_registry(ctx, tx, complaint["name"], CLIENT_LOCK, None,
                                          reason="complaint_unanswered")


async def due_complaints(ctx: ServiceContext, now: datetime) -> list[str]:
    docs = await unit_of_work(ctx)[COMPLAINTS].find({"status": ComplaintStatus.OPEN.value,
                                                     "deadline": {"$lte": now}}, {"_id": 1}).to_list()
    return [d["_id"] for d in docs]


async def complaints_of(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    """The registrar's complaint count and its complaints, newest first."""

    async def run(_: str) -> dict[str, Any]:
        docs = await unit_of_work(ctx)[COMPLAINTS].find({"registrar_id": actor.registrar_id}) \
            .sort("filed_at", -1).to_list(500)
        return {"count": len(docs), "open": sum(d["status"] in OPEN_STATUSES for d in docs),
                "complaints": [complaint_view(d) for d in docs]}

    return await execute(ctx, actor, CommandType.INFO_REGISTRAR, actor.registrar_id, run,
                         requires=Permission.MY_REGISTRATIONS)


def complaint_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"complaint_id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


async def list_complaints(ctx: ServiceContext, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The lock complaints the staff pages list, newest first, optionally of one status."""
    query = {"status": status} if status else {}
    docs = await unit_of_work(ctx)[COMPLAINTS].find(query).sort("filed_at", -1).limit(limit).to_list()
    return [complaint_view(d) for d in docs]
