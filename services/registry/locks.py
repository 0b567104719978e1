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

A locked domain gets no transfer code and cannot be transferred (services/registry/transfers.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.commands import Actor, commit, execute
from services.registry.names import lookup_name
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission
from shared.events import CommandType, EventEnvelope, new_event
from shared.events.domains import DomainLocked, DomainUnlocked, LockComplaintClosed, LockComplaintFiled
from shared.mongo.indexes import CollectionIndexes
from shared.runtime import ServiceContext

DOMAINS = "domains"
REGISTRARS = "registrars"
COMPLAINTS = "lock_complaints"
CLIENT_LOCK = "clientTransferProhibited"
SERVER_STATUSES = ("serverTransferProhibited", "serverUpdateProhibited", "serverDeleteProhibited")
COMPLAINT_HOURS = 48
LOCK_INDEXES = (
    CollectionIndexes(COMPLAINTS, (IndexModel([("registrar_id", ASCENDING), ("filed_at", ASCENDING)]),
                                   IndexModel([("status", ASCENDING), ("deadline", ASCENDING)]))),
    CollectionIndexes(DOMAINS, (IndexModel([("registrar_id", ASCENDING), ("statuses", ASCENDING)]),)),
)


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


def refuse_if_status(doc: dict[str, Any], status: str, result: Result) -> None:
    if status in doc.get("statuses", []):
        raise CommandRefused(result, f"Domain [{doc['_id']}] has invalid status ({status})")


async def own_domain(ctx: ServiceContext, actor: Actor, name: str, session: AsyncClientSession) -> dict[str, Any]:
    """The actor's domain to change. Another registrar's is refused as not belonging to it (2304, as .be
    answers: the name is public anyway, check says "in use"); a name nobody holds does not exist (2303)."""
    doc = await ctx.db[DOMAINS].find_one({"_id": name}, session=session)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{name}]")
    if doc["registrar_id"] != actor.registrar_id:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] does not belong to you")
    return doc


async def _domain(ctx: ServiceContext, name: str, session: AsyncClientSession) -> dict[str, Any]:
    doc = await ctx.db[DOMAINS].find_one({"_id": name}, session=session)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{name}]")
    return doc


def _event(ctx: ServiceContext, payload: Any, registrar_id: str, correlation_id: str | None) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock)


async def _close_complaints(ctx: ServiceContext, session: AsyncClientSession, doc: dict[str, Any],
                            outcome: ComplaintStatus, correlation_id: str | None) -> list[EventEnvelope[Any]]:
    open_ = await ctx.db[COMPLAINTS].find({"name": doc["_id"], "status": {"$in": OPEN_STATUSES}},
                                          session=session).to_list()
    for complaint in open_:
        await ctx.db[COMPLAINTS].update_one({"_id": complaint["_id"]}, {"$set": {
            "status": outcome.value, "closed_at": ctx.clock.now()}}, session=session)
    return [_event(ctx, LockComplaintClosed(name=doc["_id"], complaint_id=c["_id"], outcome=outcome.value),
                   c["registrar_id"], correlation_id) for c in open_]


async def _clear(ctx: ServiceContext, session: AsyncClientSession, doc: dict[str, Any], status: str, *,
                 by_operator: bool, reason: str | None, correlation_id: str | None,
                 outcome: ComplaintStatus) -> list[EventEnvelope[Any]]:
    update: dict[str, Any] = {"$pull": {"statuses": status}}
    if status == CLIENT_LOCK:
        update["$unset"] = {"lock_request": ""}
    await ctx.db[DOMAINS].update_one({"_id": doc["_id"]}, update, session=session)
    events = [_event(ctx, DomainUnlocked(name=doc["_id"], status=status, by_operator=by_operator, reason=reason),
                     doc["registrar_id"], correlation_id)]
    if status == CLIENT_LOCK:
        events += await _close_complaints(ctx, session, doc, outcome, correlation_id)
    return events


# -- the sponsoring registrar's client lock ----------------------------------------------------------------------

async def lock_domain(ctx: ServiceContext, actor: Actor, name: str, request: LockRequest) -> None:
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            registrar = await ctx.db[REGISTRARS].find_one({"_id": actor.registrar_id}, {"lock_function": 1},
                                                          session=session)
            if registrar is None or not registrar.get("lock_function", True):
                raise CommandRefused(Result.AUTHORIZATION_ERROR,
                                     f"the registry has withdrawn the lock function from registrar [{actor.registrar_id}]")
            doc = await own_domain(ctx, actor, name, session)
            refuse_if_status(doc, "serverUpdateProhibited", Result.STATUS_PROHIBITS)
            if doc["status"] == "QUARANTINE":
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] has invalid status (quarantine)")
            if CLIENT_LOCK in doc.get("statuses", []):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] already has status ({CLIENT_LOCK})")
            await ctx.db[DOMAINS].update_one({"_id": name}, {
                "$addToSet": {"statuses": CLIENT_LOCK},
                "$set": {"lock_request": {"reference": request.registrant_request, "user_id": actor.user_id,
                                          "at": ctx.clock.now()}}}, session=session)
            return [actor.event(DomainLocked(name=name, status=CLIENT_LOCK, by_operator=False), ctx)]

        await commit(ctx, unit)

    await execute(ctx, actor, CommandType.LOCK_DOMAIN, name, run)


async def unlock_domain(ctx: ServiceContext, actor: Actor, name: str) -> None:
    """Allowed even when the lock function is withdrawn: a registrant must always be able to leave."""
    name = lookup_name(name)

    async def run(_: str) -> None:
        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await own_domain(ctx, actor, name, session)
            refuse_if_status(doc, "serverUpdateProhibited", Result.STATUS_PROHIBITS)
            if CLIENT_LOCK not in doc.get("statuses", []):
                raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] does not have status ({CLIENT_LOCK})")
            return await _clear(ctx, session, doc, CLIENT_LOCK, by_operator=False, reason=None,
                                correlation_id=actor.correlation_id, outcome=ComplaintStatus.LIFTED)

        await commit(ctx, unit)

    await execute(ctx, actor, CommandType.UNLOCK_DOMAIN, name, run)


# -- the registry's powers (operator API; the caller commits) -----------------------------------------------------

async def set_server_status(ctx: ServiceContext, session: AsyncClientSession, name: str, status: str,
                            correlation_id: str) -> list[EventEnvelope[Any]]:
    if status not in SERVER_STATUSES:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"unknown server status [{status}]: one of {SERVER_STATUSES}")
    doc = await _domain(ctx, name, session)
    if status in doc.get("statuses", []):
        return []  # already set: setting it again changes nothing and says nothing
    await ctx.db[DOMAINS].update_one({"_id": name}, {"$addToSet": {"statuses": status}}, session=session)
    return [_event(ctx, DomainLocked(name=name, status=status, by_operator=True), doc["registrar_id"], correlation_id)]


async def clear_status_by_registry(ctx: ServiceContext, session: AsyncClientSession, name: str, status: str,
                                   correlation_id: str, reason: str | None = None) -> list[EventEnvelope[Any]]:
    if status not in (*SERVER_STATUSES, CLIENT_LOCK):
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"unknown status [{status}]")
    doc = await _domain(ctx, name, session)
    if status not in doc.get("statuses", []):
        return []
    return await _clear(ctx, session, doc, status, by_operator=True, reason=reason, correlation_id=correlation_id,
                        outcome=ComplaintStatus.LIFTED_BY_REGISTRY)


async def lift_all_client_locks(ctx: ServiceContext, session: AsyncClientSession, registrar_id: str,
                                correlation_id: str) -> list[EventEnvelope[Any]]:
    """When the lock function is withdrawn, the registrar's existing client locks go with it."""
    events: list[EventEnvelope[Any]] = []
    async for doc in ctx.db[DOMAINS].find({"registrar_id": registrar_id, "statuses": CLIENT_LOCK}, session=session):
        events += await _clear(ctx, session, doc, CLIENT_LOCK, by_operator=True, reason="lock_function_withdrawn",
                               correlation_id=correlation_id, outcome=ComplaintStatus.LIFTED_BY_REGISTRY)
    return events


# -- complaints ----------------------------------------------------------------------------------------------------

async def file_complaint(ctx: ServiceContext, session: AsyncClientSession, name: str, note: str,
                         correlation_id: str) -> tuple[list[EventEnvelope[Any]], dict[str, Any]]:
    doc = await _domain(ctx, name, session)
    if CLIENT_LOCK not in doc.get("statuses", []):
        raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] has no client lock to complain about")
    if await ctx.db[COMPLAINTS].find_one({"name": name, "status": {"$in": OPEN_STATUSES}}, {"_id": 1}, session=session):
        raise CommandRefused(Result.OBJECT_EXISTS, f"a complaint about the lock on [{name}] is already open")
    now = ctx.clock.now()
    complaint = {"_id": uuid.uuid4().hex, "name": name, "registrar_id": doc["registrar_id"], "note": note,
                 "filed_at": now, "deadline": now + timedelta(hours=COMPLAINT_HOURS),
                 "status": ComplaintStatus.OPEN.value, "lock_request": doc.get("lock_request")}
    await ctx.db[COMPLAINTS].insert_one(complaint, session=session)
    event = _event(ctx, LockComplaintFiled(name=name, complaint_id=complaint["_id"], deadline=complaint["deadline"]),
                   doc["registrar_id"], correlation_id)
    return [event], complaint_view(complaint)


async def answer_complaint(ctx: ServiceContext, actor: Actor, name: str, evidence: str) -> dict[str, Any]:
    """The registrar shows the registrant's request the lock rests on."""
    name = lookup_name(name)

    async def run(_: str) -> dict[str, Any]:
        answered: list[dict[str, Any]] = []

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            complaint = await ctx.db[COMPLAINTS].find_one(
                {"name": name, "registrar_id": actor.registrar_id, "status": ComplaintStatus.OPEN.value},
                session=session)
            if complaint is None:
                raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"no open lock complaint about [{name}]")
            if complaint["deadline"] <= ctx.clock.now():
                raise CommandRefused(Result.STATUS_PROHIBITS, f"the complaint about [{name}] passed its deadline")
            values = {"status": ComplaintStatus.ANSWERED.value, "evidence": evidence, "answered_at": ctx.clock.now(),
                      "answered_by": actor.user_id}
            await ctx.db[COMPLAINTS].update_one({"_id": complaint["_id"]}, {"$set": values}, session=session)
            answered.append(complaint | values)
            return []

        await commit(ctx, unit)
        return complaint_view(answered[-1])

    return await execute(ctx, actor, CommandType.UPD_DOMAIN, name, run)


async def decide_complaint(ctx: ServiceContext, session: AsyncClientSession, complaint_id: str, upheld: bool,
                           correlation_id: str) -> list[EventEnvelope[Any]]:
    complaint = await ctx.db[COMPLAINTS].find_one({"_id": complaint_id}, session=session)
    if complaint is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"no lock complaint [{complaint_id}]")
    if complaint["status"] not in OPEN_STATUSES:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"the complaint [{complaint_id}] is closed ({complaint['status']})")
    if upheld:
        await ctx.db[COMPLAINTS].update_one({"_id": complaint_id}, {"$set": {
            "status": ComplaintStatus.UPHELD.value, "closed_at": ctx.clock.now()}}, session=session)
        return [_event(ctx, LockComplaintClosed(name=complaint["name"], complaint_id=complaint_id,
                                                outcome=ComplaintStatus.UPHELD.value),
                       complaint["registrar_id"], correlation_id)]
    return await clear_status_by_registry(ctx, session, complaint["name"], CLIENT_LOCK, correlation_id,
                                          reason="complaint_evidence_rejected")


async def lift_unanswered(ctx: ServiceContext, session: AsyncClientSession, complaint_id: str,
                          now: datetime) -> list[EventEnvelope[Any]]:
    """The lifecycle job's step for one complaint past its deadline without an answer."""
    complaint = await ctx.db[COMPLAINTS].find_one({"_id": complaint_id}, session=session)
    if complaint is None or complaint["status"] != ComplaintStatus.OPEN.value or complaint["deadline"] > now:
        return []  # answered or closed meanwhile
    return await clear_status_by_registry(ctx, session, complaint["name"], CLIENT_LOCK, None,  # type: ignore[arg-type]
                                          reason="complaint_unanswered")


async def due_complaints(ctx: ServiceContext, now: datetime) -> list[str]:
    docs = await ctx.db[COMPLAINTS].find({"status": ComplaintStatus.OPEN.value, "deadline": {"$lte": now}},
                                         {"_id": 1}).to_list()
    return [d["_id"] for d in docs]


async def complaints_of(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    """The registrar's complaint count and its complaints, newest first."""

    async def run(_: str) -> dict[str, Any]:
        docs = await ctx.db[COMPLAINTS].find({"registrar_id": actor.registrar_id}).sort("filed_at", -1).to_list(500)
        return {"count": len(docs), "open": sum(d["status"] in OPEN_STATUSES for d in docs),
                "complaints": [complaint_view(d) for d in docs]}

    return await execute(ctx, actor, CommandType.INFO_REGISTRAR, actor.registrar_id, run,
                         requires=Permission.MY_REGISTRATIONS)


def complaint_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"complaint_id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}

