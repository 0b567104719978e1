"""Transfers (digest 4.4): one mechanism for a new registrar, a new registrant, or both.

Transfer code (dnsbe:requestAuthCode, POST .../transfer-code): any registrar may ask (the registrant asks the
registrar it wants to move to). Checks: the domain exists (2303); no serverTransferProhibited, no client lock,
not on hold (2308); the URL, if any, is http(s) and at most 500 characters (2306); while a code is valid, at
most 4 sends (2308). The code (5 groups of 3 digits) is mailed only to the registrant, valid 7 days; asking
again sends the same code and extends it. Event: domain.transfer_code_sent (sealed code; the mailer opens it).

Transfer (domain:transfer op=request, POST .../transfer): executed at once. Checks, in order: the domain
exists (2303); not locked (2308); the code is valid (2202); #AUTO# only for a change of registrar (2306);
something changes (2306); contacts, groups and name servers as for a create; the gaining registrar pays
TRANSFER, or TRANSFER_FROM_QUARANTINE (any registrar may take a name out of quarantine this way) (2104).
A new registration period starts and the code is spent. The new registrant is one of the gaining registrar's
registrant contacts, or #AUTO#: a copy of the current registrant under a new alias. The losing registrar's
contacts and groups do not travel; name servers given on the domain do unless the transfer names new ones.
Events: contact.created (an #AUTO# copy, first, so consumers know the contact the transfer names),
domain.transferred, the payment's, and domain.override_changed as the registrant's verification status
decides (domains/override.py).

Info with the code: a registrar that is not the sponsor sees the domain with its valid code (2202 otherwise,
whether the name exists or not).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.commands import Actor, execute
from services.registry.contacts.model import ContactType, VerificationStatus, contact_payload
from services.registry.contacts.rules import require_roles
from services.registry.domains.model import CLIENT_LOCK, QUARANTINE, REGISTERED, HostAttr, check_glue
from services.registry.domains.names import lookup_name, parse_domain_name
from services.registry.domains.override import (
    CASE_FIELDS,
    override_after_transfer,
    override_events,
    status_after_transfer,
)
from services.registry.domains.rules import existing_domain, linked_contacts, refuse_if_status
from services.registry.domains.special import back_in_service
from services.registry.groups.rules import require_groups
from services.registry.registrars.money import Charge, charge, registrar_lock
from services.registry.results import CommandRefused, Result
from services.registry.store import CONTACTS, DOMAINS, unit_of_work
from services.registry.uow import DuplicateKey, Tx
from services.registry.users.model import Permission
from shared.clock import one_year_after
from shared.events import CommandType, EventEnvelope
from shared.events.contacts import ContactCreated
from shared.events.domains import DomainTransferred, TransferCodeSent
from shared.events.money import TransactionKind
from shared.runtime import ServiceContext
from shared.sealing import Sealer

AUTO = "#AUTO#"
MAX_SENDS = 4
MAX_URL = 500
# what a #AUTO# copy does not take over: the source's verification case, URL and type are the source's own
NOT_COPIED = {*CASE_FIELDS, "verification_type", "reference"}


class TransferRequest(BaseModel):
    """What the gaining registrar gives: the code, the new registrant, and the data it re-enters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    transfer_code: str = Field(pattern=r"^\d{3}-\d{3}-\d{3}-\d{3}-\d{3}$")
    registrant: str = Field(min_length=3, max_length=16, description="a registrant contact of yours, or #AUTO#")
    tech: list[str] = Field(default_factory=list, max_length=5)
    onsite: list[str] = Field(default_factory=list, max_length=5)
    name_servers: list[HostAttr] | None = Field(default=None, max_length=9,
                                                description="omitted: the domain keeps its name servers")
    nsgroups: list[str] = Field(default_factory=list, max_length=9)
    keygroups: list[str] = Field(default_factory=list, max_length=9)


def sealer(ctx: ServiceContext) -> Sealer:
    return Sealer(ctx.settings.sealing_secrets, "transfer-code")


def new_code() -> str:
    return "-".join(f"{secrets.randbelow(1000):03d}" for _ in range(5))


def code_is_valid(ctx: ServiceContext, doc: dict[str, Any], code: str, now: datetime) -> bool:
    stored = doc.get("transfer_code")
    return stored is not None and stored["valid_until"] > now and sealer(ctx).matches(code, stored["digest"])


def _refuse_locked(doc: dict[str, Any]) -> None:
    refuse_if_status(doc, "serverTransferProhibited", Result.DATA_MANAGEMENT_POLICY)
    refuse_if_status(doc, CLIENT_LOCK, Result.DATA_MANAGEMENT_POLICY)
    if doc.get("on_hold"):
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, f"domain [{doc['_id']}] has invalid status (on hold)")


async def request_transfer_code(ctx: ServiceContext, actor: Actor, name: str, url: str | None = None) -> datetime:
    """Mail the code to the registrant (through the event the mailer reads); returns its expiry."""
    name = lookup_name(name)

    async def run(_: str) -> datetime:
        try:  # a malformed name is a policy error here, as DNS Belgium answers it (digest 4.4), not "unknown"
            parse_domain_name(name, ctx.settings.tlds)  # type: ignore[attr-defined]
        except CommandRefused as exc:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"invalid domain name [{name}]: {exc.message}") from exc
        if url is not None:
            if not url.startswith(("http://", "https://")):
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "URL should start with 'http://' or 'https://'")
            if len(url) > MAX_URL:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"URL is too long (max {MAX_URL} characters)")

        async def work(tx: Tx) -> datetime:
            doc = await existing_domain(tx, name)
            _refuse_locked(doc)
            now = ctx.clock.now()
            days = timedelta(days=ctx.settings.transfer_code_days)  # type: ignore[attr-defined]
            stored = doc.get("transfer_code")
            if stored and stored["valid_until"] > now:
                if stored["sends"] >= MAX_SENDS:
                    raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, f"there were already {MAX_SENDS} e-mails "
                                         "sent to this registrant for this authorisation code")
                stored = stored | {"sends": stored["sends"] + 1, "valid_until": now + days}
            else:
                code = new_code()
                stored = {"sealed": sealer(ctx).seal(code), "digest": sealer(ctx).digest(code), "sends": 1,
                          "valid_until": now + days}
            registrant = await tx[CONTACTS].find_one({"_id": doc["registrant"]}, {"email": 1})
            if registrant is None:
                raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, f"domain [{name}] has no registrant to send a code to")
            await tx[DOMAINS].update_one({"_id": name}, {"$set": {"transfer_code": stored}})
            tx.publish([actor.event(TransferCodeSent(name=name, registrant=doc["registrant"], email=registrant["email"],
                                                     sealed_code=stored["sealed"], valid_until=stored["valid_until"],
                                                     sends=stored["sends"], url=url), ctx)])
            return stored["valid_until"]  # type: ignore[no-any-return]

        return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, CommandType.REQUEST_AUTHCODE, name, run)


async def _copy_registrant(ctx: ServiceContext, tx: Tx, alias: str, gaining: str) -> dict[str, Any]:
    """#AUTO#: the current registrant, copied under a new alias of the gaining registrar. A copy is a new
    contact and verifies on its own (it starts UNVERIFIED)."""
    source = await tx[CONTACTS].find_one({"_id": alias})
    if source is None:
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, "#AUTO#: the domain has no registrant to copy")
    kept = {k: v for k, v in source.items() if k not in NOT_COPIED}
    for _ in range(5):
        copy = kept | {"_id": f"c{secrets.randbelow(10**9):09d}", "registrar_id": gaining,
                       "created_at": ctx.clock.now(), "copied_from": alias,
                       "verification": VerificationStatus.UNVERIFIED.value}
        try:
            await tx[CONTACTS].insert_one(copy)
            return copy
        except DuplicateKey:
            continue
    raise RuntimeError("no free contact alias after 5 tries")


async def transfer_domain(ctx: ServiceContext, actor: Actor, name: str, request: TransferRequest) -> dict[str, Any]:
    name = lookup_name(name)

    async def run(reference: str) -> dict[str, Any]:
        async def work(tx: Tx) -> dict[str, Any]:
            doc = await existing_domain(tx, name)
            now = ctx.clock.now()
            _refuse_locked(doc)
            if not code_is_valid(ctx, doc, request.transfer_code, now):
                raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO,
                                     f"Invalid authorization information for domain [{name}]")
            losing, from_quarantine = doc["registrar_id"], doc["status"] == QUARANTINE
            same_registrar = losing == actor.registrar_id and not from_quarantine
            created: list[EventEnvelope[Any]] = []
            if request.registrant == AUTO:
                if same_registrar:
                    raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                         "#AUTO# copies the registrant: only for a change of registrar")
                copy = await _copy_registrant(ctx, tx, doc["registrant"], actor.registrar_id)
                registrant = copy["_id"]
                # published ahead of domain.transferred: consumers learn of the contact before the transfer
                # that names it (verification waits for it otherwise)
                created.append(actor.event(ContactCreated(**contact_payload(copy)), ctx))
            else:
                registrant = request.registrant
            if same_registrar and registrant == doc["registrant"]:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                     f"domain [{name}] is already yours with registrant [{registrant}]")
            roles = {ContactType.REGISTRANT: [registrant], ContactType.TECH: request.tech,
                     ContactType.ONSITE: request.onsite}
            await require_roles(tx, actor.registrar_id, roles)
            groups, keys = sorted(set(request.nsgroups)), sorted(set(request.keygroups))
            await require_groups(tx, actor.registrar_id, groups, keys)
            hosts = [HostAttr(**h) for h in doc.get("name_servers", [])] if request.name_servers is None \
                else request.name_servers
            check_glue(name, hosts)

            status = await status_after_transfer(tx, doc.get("registrant"), registrant)
            override = override_after_transfer(ctx, doc, status)
            expires_at = one_year_after(now)
            values = {
                "registrar_id": actor.registrar_id, "registrant": registrant, "tech": request.tech,
                "onsite": request.onsite, "contacts": linked_contacts(roles),
                "name_servers": [h.model_dump() for h in hosts], "nsgroups": groups, "keygroups": keys,
                "status": REGISTERED, "transferred_at": now, "expires_at": expires_at,
                # Domain Guard belongs to the name and stays; there can be no client lock here
                "statuses": [s for s in doc.get("statuses", []) if s.startswith("server")],
                "reference": reference,
            }
            # out of service: the new registrar has a contract, the domain is back in service
            unset = {"delete_date": "", "quarantined_at": "", "available_on": "", "transfer_code": "",
                     "out_of_service_since": ""}
            if override is None:
                unset["override"] = ""
            else:
                values["override"] = override
            await tx[DOMAINS].update_one({"_id": name}, {"$set": values, "$unset": unset})
            kind = TransactionKind.TRANSFER_FROM_QUARANTINE if from_quarantine else TransactionKind.TRANSFER
            charged = await charge(ctx, tx, actor.registrar_id, Charge(kind, name, reference), actor.correlation_id)
            done = ({k: v for k, v in doc.items() if k not in unset} | values
                    | {"_id": name, "losing_registrar_id": losing})
            transferred = actor.event(DomainTransferred(
                name=name, gaining_registrar_id=actor.registrar_id, losing_registrar_id=losing,
                old_registrant=doc.get("registrant"), new_registrant=registrant, from_quarantine=from_quarantine,
                expires_at=expires_at), ctx)
            tx.publish([*created, transferred, *charged,
                        *override_events(ctx, done, doc.get("override"), override, actor.correlation_id),
                        *back_in_service(ctx, doc | {"expires_at": expires_at, "registrar_id": actor.registrar_id},
                                         actor.correlation_id)])
            return done

        async with registrar_lock(ctx, actor.registrar_id):
            return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, CommandType.TRANSFER_DOMAIN, name, run)


async def domain_for_transfer(ctx: ServiceContext, actor: Actor, name: str, code: str) -> dict[str, Any]:
    """Info for a registrar that is not the sponsor but holds the valid transfer code (digest 4.4)."""
    name = lookup_name(name)

    async def run(_: str) -> dict[str, Any]:
        doc = await unit_of_work(ctx)[DOMAINS].find_one({"_id": name})
        if doc is not None and doc["registrar_id"] == actor.registrar_id:
            return doc  # the sponsor sees its own domain whatever authInfo it gives
        if doc is None or not code_is_valid(ctx, doc, code, ctx.clock.now()):
            # the same answer whether the name exists or not: a wrong code tells nothing
            raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO, f"Invalid authorization information for domain [{name}]")
        return doc

    return await execute(ctx, actor, CommandType.INFO_DOMAIN, name, run, requires=Permission.MY_REGISTRATIONS)
