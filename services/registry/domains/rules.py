"""Checks several domain commands share (Nomulus's DomainFlowUtils)."""

from __future__ import annotations

from typing import Any

from services.registry.commands import Actor
from services.registry.contacts.model import ContactType
from services.registry.domains.model import QUARANTINE
from services.registry.results import CommandRefused, Result
from services.registry.store import DOMAINS
from services.registry.uow import Reader


async def existing_domain(tx: Reader, name: str) -> dict[str, Any]:
    doc = await tx[DOMAINS].find_one({"_id": name})
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{name}]")
    return doc


async def own_domain(tx: Reader, actor: Actor, name: str) -> dict[str, Any]:
    """The actor's domain to change. Another registrar's is refused as not belonging to it (2304, as .be
    answers: the name is public anyway, check says "in use"); a name nobody holds does not exist (2303)."""
    doc = await existing_domain(tx, name)
    if doc["registrar_id"] != actor.registrar_id:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{name}] does not belong to you")
    return doc


async def sponsored_domain(tx: Reader, actor: Actor, name: str) -> dict[str, Any]:
    """The actor's domain to look at: another registrar's is reported as not existing (info shows no more
    than check does)."""
    doc = await tx[DOMAINS].find_one({"_id": name, "registrar_id": actor.registrar_id})
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{name}]")
    return doc


def refuse_if_status(doc: dict[str, Any], status: str, result: Result = Result.STATUS_PROHIBITS) -> None:
    if status in doc.get("statuses", []):
        raise CommandRefused(result, f"Domain [{doc['_id']}] has invalid status ({status})")


def refuse_if_prohibited(doc: dict[str, Any], *server_statuses: str, quarantined: bool = True) -> None:
    """2304 when a server status the command is subject to is set, or (unless told) in quarantine."""
    for status in server_statuses:
        refuse_if_status(doc, status)
    if quarantined and doc["status"] == QUARANTINE:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"Domain [{doc['_id']}] has invalid status (quarantine)")


def linked_contacts(roles: dict[ContactType, list[str]]) -> list[str]:
    """Every contact a domain uses, stored on it for the 'still linked' rule of contact delete."""
    return sorted({alias for aliases in roles.values() for alias in aliases})
