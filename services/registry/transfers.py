"""Transfers (digest 4.4): one mechanism for a new registrar, a new registrant, or both.

- The transfer code: 5 groups of 3 digits, mailed only to the registrant, valid 7 days. Asking again
  while it is valid sends the same code and extends it by 7 days; at most 4 sends in a row, the 5th
  request is refused (support can still help). A locked domain gets no code. Any registrar may ask (the
  registrant asks the registrar it wants to move to); the code is kept sealed, never shown in info.
- The transfer is executed at once when the code is valid: the gaining registrar pays TRANSFER (or
  TRANSFER_FROM_QUARANTINE: any registrar may take a name out of quarantine this way), a new
  registration period starts, and the code is spent. The new registrant is one of the gaining
  registrar's registrant contacts, or #AUTO#: a copy of the current registrant, for a change of
  registrar only. The copy is a new contact, announced with contact.created before the transfer, so the
  verification service knows it when the transfer comes. The losing registrar's contacts and groups do
  not travel; name servers given on the domain do unless the transfer names new ones.
- The registrant's verification status follows services/registry/override.py.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.registry.commands import Actor, commit, execute
from services.registry.contacts import CONTACTS, ContactType, VerificationStatus, _payload, require_roles
from services.registry.domains import DOMAINS, HostAttr, check_glue
from services.registry.groups import require_groups
from services.registry.locks import CLIENT_LOCK, refuse_if_status
from services.registry.money import Charge, charge, registrar_lock
from services.registry.names import lookup_name, parse_domain_name
from services.registry.override import (
    CASE_FIELDS,
    override_after_transfer,
    override_events,
    status_after_transfer,
)
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission
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


def sealer(ctx: ServiceContext) -> Sealer:
    return Sealer(ctx.settings.internal_secret, "transfer-code")


def new_code() -> str:
    return "-".join(f"{secrets.randbelow(1000):03d}" for _ in range(5))


def one_year_after(instant: datetime) -> datetime:
    try:
        return instant.replace(year=instant.year + 1)
    except ValueError:  # 29 February
        return instant.replace(year=instant.year + 1, day=28)


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


def _refuse_locked(doc: dict[str, Any]) -> None:
    refuse_if_status(doc, "serverTransferProhibited", Result.DATA_MANAGEMENT_POLICY)
    refuse_if_status(doc, CLIENT_LOCK, Result.DATA_MANAGEMENT_POLICY)
    if doc.get("on_hold"):
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, f"domain [{doc['_id']}] has invalid status (on hold)")


async def _existing(ctx: ServiceContext, name: str, session: AsyncClientSession) -> dict[str, Any]:
    doc = await ctx.db[DOMAINS].find_one({"_id": name}, session=session)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{name}]")
    return doc


def code_is_valid(ctx: ServiceContext, doc: dict[str, Any], code: str, now: datetime) -> bool:
    stored = doc.get("transfer_code")
    return bool(stored) and stored["valid_until"] > now and sealer(ctx).matches(code, stored["digest"])


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
        expiry: list[datetime] = []

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await _existing(ctx, name, session)
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
            registrant = await ctx.db[CONTACTS].find_one({"_id": doc["registrant"]}, {"email": 1}, session=session)
            if registrant is None:
                raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, f"domain [{name}] has no registrant to send a code to")
            await ctx.db[DOMAINS].update_one({"_id": name}, {"$set": {"transfer_code": stored}}, session=session)
            expiry.append(stored["valid_until"])
            return [actor.event(TransferCodeSent(name=name, registrant=doc["registrant"], email=registrant["email"],
                                                 sealed_code=stored["sealed"], valid_until=stored["valid_until"],
                                                 sends=stored["sends"], url=url), ctx)]

        await commit(ctx, unit)
        return expiry[-1]

    return await execute(ctx, actor, CommandType.REQUEST_AUTHCODE, name, run)


async def _copy_registrant(ctx: ServiceContext, session: AsyncClientSession, alias: str,
                           gaining: str) -> dict[str, Any]:
    """#AUTO#: the current registrant, copied under a new alias of the gaining registrar. A copy is a new
    contact and verifies on its own (it starts UNVERIFIED)."""
    source = await ctx.db[CONTACTS].find_one({"_id": alias}, session=session)
    if source is None:
        raise CommandRefused(Result.DATA_MANAGEMENT_POLICY, "#AUTO#: the domain has no registrant to copy")
    kept = {k: v for k, v in source.items() if k not in NOT_COPIED}
    for _ in range(5):
        copy = kept | {"_id": f"c{secrets.randbelow(10**9):09d}", "registrar_id": gaining,
                       "created_at": ctx.clock.now(), "copied_from": alias,
                       "verification": VerificationStatus.UNVERIFIED.value}
        try:
            await ctx.db[CONTACTS].insert_one(copy, session=session)
            return copy
        except DuplicateKeyError:
            continue
    raise RuntimeError("no free contact alias after 5 tries")


async def transfer_domain(ctx: ServiceContext, actor: Actor, name: str, request: TransferRequest) -> dict[str, Any]:
    name = lookup_name(name)

    async def run(reference: str) -> dict[str, Any]:
        done: list[dict[str, Any]] = []

        async def unit(session: AsyncClientSession) -> list[EventEnvelope[Any]]:
            doc = await _existing(ctx, name, session)
            now = ctx.clock.now()
            _refuse_locked(doc)
            if not code_is_valid(ctx, doc, request.transfer_code, now):
                raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO,
                                     f"Invalid authorization information for domain [{name}]")
            losing, from_quarantine = doc["registrar_id"], doc["status"] == "QUARANTINE"
            same_registrar = losing == actor.registrar_id and not from_quarantine
            created: list[EventEnvelope[Any]] = []
            if request.registrant == AUTO:
                if same_registrar:
                    raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                         "#AUTO# copies the registrant: only for a change of registrar")
                copy = await _copy_registrant(ctx, session, doc["registrant"], actor.registrar_id)
                registrant = copy["_id"]
                # published ahead of domain.transferred: consumers learn of the contact before the transfer
                # that names it (verification waits for it otherwise)
                created.append(actor.event(ContactCreated(**_payload(copy)), ctx))
            else:
                registrant = request.registrant
            if same_registrar and registrant == doc["registrant"]:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                     f"domain [{name}] is already yours with registrant [{registrant}]")
            roles = {ContactType.REGISTRANT: [registrant], ContactType.TECH: request.tech,
                     ContactType.ONSITE: request.onsite}
            await require_roles(ctx, session, actor.registrar_id, roles)
            groups, keys = sorted(set(request.nsgroups)), sorted(set(request.keygroups))
            await require_groups(ctx, session, actor.registrar_id, groups, keys)
            hosts = [HostAttr(**h) for h in doc.get("name_servers", [])] if request.name_servers is None \
                else request.name_servers
            check_glue(name, hosts)

            status = await status_after_transfer(ctx, session, doc.get("registrant"), registrant)
            override = override_after_transfer(ctx, doc, status)
            expires_at = one_year_after(now)
            values = {
                "registrar_id": actor.registrar_id, "registrant": registrant, "tech": request.tech,
                "onsite": request.onsite, "contacts": sorted({a for aliases in roles.values() for a in aliases}),
                "name_servers": [h.model_dump() for h in hosts], "nsgroups": groups, "keygroups": keys,
                "status": "REGISTERED", "transferred_at": now, "expires_at": expires_at,
                # Domain Guard belongs to the name and stays; there can be no client lock here
                "statuses": [s for s in doc.get("statuses", []) if s.startswith("server")],
                "reference": reference,
            }
            unset = {"delete_date": "", "quarantined_at": "", "available_on": "", "transfer_code": ""}
            if override is None:
                unset["override"] = ""
            else:
                values["override"] = override
            await ctx.db[DOMAINS].update_one({"_id": name}, {"$set": values, "$unset": unset}, session=session)
            kind = TransactionKind.TRANSFER_FROM_QUARANTINE if from_quarantine else TransactionKind.TRANSFER
            charged = await charge(ctx, session, actor.registrar_id, Charge(kind, name, reference), actor.correlation_id)
            done.append({k: v for k, v in doc.items() if k not in unset} | values
                        | {"_id": name, "losing_registrar_id": losing})
            transferred = actor.event(DomainTransferred(
                name=name, gaining_registrar_id=actor.registrar_id, losing_registrar_id=losing,
                old_registrant=doc.get("registrant"), new_registrant=registrant, from_quarantine=from_quarantine,
                expires_at=expires_at), ctx)
            return [*created, transferred, *charged,
                    *override_events(ctx, done[-1], doc.get("override"), override, actor.correlation_id)]

        async with registrar_lock(ctx, actor.registrar_id):
            await commit(ctx, unit)
        return done[-1]

    return await execute(ctx, actor, CommandType.TRANSFER_DOMAIN, name, run)


async def domain_for_transfer(ctx: ServiceContext, actor: Actor, name: str, code: str) -> dict[str, Any]:
    """Info for a registrar that is not the sponsor but holds the valid transfer code (digest 4.4)."""
    name = lookup_name(name)

    async def run(_: str) -> dict[str, Any]:
        doc = await ctx.db[DOMAINS].find_one({"_id": name})
        if doc is not None and doc["registrar_id"] == actor.registrar_id:
            return doc  # the sponsor sees its own domain whatever authInfo it gives
        if doc is None or not code_is_valid(ctx, doc, code, ctx.clock.now()):
            # the same answer whether the name exists or not: a wrong code tells nothing
            raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO, f"Invalid authorization information for domain [{name}]")
        return doc

    return await execute(ctx, actor, CommandType.INFO_DOMAIN, name, run, requires=Permission.MY_REGISTRATIONS)
