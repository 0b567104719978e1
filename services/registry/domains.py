"""Domains: the create command (the first flow through the platform; issue 3 grows the rest)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.registry.commands import Actor, execute, standing_registrar
from services.registry.contacts import ContactType, require_roles
from services.registry.groups import MAX_NAME_SERVERS, host_name, require_groups
from services.registry.money import Charge, charge, registrar_lock
from services.registry.names import lookup_name, parse_domain_name
from services.registry.override import override_at_creation, override_events
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission
from shared.clock import one_year_after
from shared.events import CommandType, DomainCreated, new_event
from shared.events.domains import NameServerHost
from shared.events.money import TransactionKind
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

DOMAINS = "domains"
# _id is the name: uniqueness of a name is the database's to enforce, so two racing creates cannot both win
DOMAIN_INDEXES = (CollectionIndexes(DOMAINS, (IndexModel([("registrar_id", ASCENDING), ("name", ASCENDING)]),)),)


class HostAttr(BaseModel):
    """A name server given on the domain: addresses (glue) only when it lies inside the domain."""

    model_config = ConfigDict(extra="forbid")

    name: str
    addresses: list[str] = Field(default_factory=list, max_length=13)

    @field_validator("name")
    @classmethod
    def host(cls, v: str) -> str:
        return host_name(v)

    @field_validator("addresses")
    @classmethod
    def ips(cls, v: list[str]) -> list[str]:
        return [str(ipaddress.ip_address(a)) for a in v]


def check_glue(domain: str, hosts: list[HostAttr]) -> None:
    if len(hosts) > MAX_NAME_SERVERS:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"at most {MAX_NAME_SERVERS} name servers per domain")
    if len({h.name for h in hosts}) != len(hosts):
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "each name server at most once")
    for h in hosts:
        inside = h.name == domain or h.name.endswith("." + domain)
        if inside and not h.addresses:
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX, f"missing glue for {h.name}")
        if not inside and h.addresses:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"no glue allowed for {h.name}: it is not in {domain}")


@dataclass(frozen=True)
class Domain:
    name: str
    tld: str
    registrar_id: str
    registrant: str | None
    registered_at: datetime
    status: str
    name_servers: tuple[dict[str, Any], ...] = ()
    nsgroups: tuple[str, ...] = ()
    keygroups: tuple[str, ...] = ()
    delete_date: datetime | None = None
    available_on: datetime | None = None
    statuses: tuple[str, ...] = ()
    # the reason while the name servers are overridden (services/registry/override.py)
    override_reason: str | None = None
    # end of the paid period: the month-end renewal (services/registry/renewal.py) moves it a year on
    expires_at: datetime | None = None
    # the domain's tech and onsite contacts (an update replaces them: a form shows the current ones)
    tech: tuple[str, ...] = ()
    onsite: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Domain:
        return cls(
            name=doc["_id"],
            tld=doc["tld"],
            registrar_id=doc["registrar_id"],
            registrant=doc.get("registrant"),
            registered_at=doc["registered_at"],
            status=doc["status"],
            name_servers=tuple(doc.get("name_servers", [])),
            nsgroups=tuple(doc.get("nsgroups", [])),
            keygroups=tuple(doc.get("keygroups", [])),
            delete_date=doc.get("delete_date"),
            available_on=doc.get("available_on"),
            statuses=tuple(doc.get("statuses", [])),
            override_reason=(doc.get("override") or {}).get("reason"),
            expires_at=doc.get("expires_at"),
            tech=tuple(doc.get("tech", [])),
            onsite=tuple(doc.get("onsite", [])),
        )


async def create_domain(
    ctx: ServiceContext, actor: Actor, raw_name: str, registrant: str, tech: list[str] | None = None,
    onsite: list[str] | None = None,
    name_servers: list[HostAttr] | None = None,
    nsgroups: list[str] | None = None,
    keygroups: list[str] | None = None,
) -> Domain:
    tlds = ctx.settings.tlds  # type: ignore[attr-defined]

    async def run(reference: str) -> Domain:
        name, tld = parse_domain_name(raw_name, tlds)
        registrar = standing_registrar(actor.registrar_id) or await ctx.db["registrars"].find_one(
            {"_id": actor.registrar_id}, {"products": 1})
        if registrar is None or tld not in registrar.get("products", []):
            raise CommandRefused(Result.AUTHORIZATION_ERROR, f"registrar [{actor.registrar_id}] is not accredited for .{tld}")
        hosts, groups, keys = list(name_servers or []), sorted(set(nsgroups or [])), sorted(set(keygroups or []))
        check_glue(name, hosts)
        now = ctx.clock.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON keeps milliseconds
        host_docs = tuple(h.model_dump() for h in hosts)
        domain = Domain(name, tld, actor.registrar_id, registrant, now, "REGISTERED", host_docs, tuple(groups), tuple(keys),
                        expires_at=one_year_after(now), tech=tuple(tech or []), onsite=tuple(onsite or []))
        event = new_event(
            DomainCreated(name=name, tld=tld, registrant=registrant, registered_at=now,
                          name_servers=[h.name for h in hosts], nsgroups=groups, keygroups=keys,
                          hosts=[NameServerHost(**h) for h in host_docs]),
            registrar_id=actor.registrar_id,
            correlation_id=actor.correlation_id,
            clock=ctx.clock,
        )

        created: dict[str, Any] = {}
        roles = {ContactType.REGISTRANT: [registrant], ContactType.TECH: list(tech or []),
                 ContactType.ONSITE: list(onsite or [])}

        async def work(session: AsyncClientSession) -> None:
            await require_roles(ctx, session, actor.registrar_id, roles)
            await require_groups(ctx, session, actor.registrar_id, groups, keys)
            override = await override_at_creation(ctx, session, registrant)
            created["override_reason"] = (override or {}).get("reason")
            try:
                await ctx.db[DOMAINS].insert_one(
                    {
                        "_id": name,
                        "name": name,
                        "tld": tld,
                        "registrar_id": actor.registrar_id,
                        "registrant": registrant,
                        "tech": roles[ContactType.TECH],
                        "onsite": roles[ContactType.ONSITE],
                        # every contact the domain uses, for the 'still linked' rule
                        "contacts": sorted({c for aliases in roles.values() for c in aliases}),
                        "name_servers": list(host_docs),
                        "nsgroups": groups,
                        "keygroups": keys,
                        "registered_at": now,
                        "expires_at": domain.expires_at,
                        "status": domain.status,
                        "created_by": actor.user_id,
                        "reference": reference,
                        **({"override": override} if override else {}),
                    },
                    session=session,
                )
            except DuplicateKeyError as exc:
                raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: domain [{name}]") from exc
            charged = await charge(
                ctx, session, actor.registrar_id, Charge(TransactionKind.CREATE, name, reference), actor.correlation_id
            )
            overridden = override_events(ctx, {"_id": name, "registrar_id": actor.registrar_id}, None, override,
                                         actor.correlation_id)
            await ctx.outbox.add([event, *charged, *overridden], session)

        async with registrar_lock(ctx, actor.registrar_id):
            await in_transaction(ctx.client, work)
        return replace(domain, **created)

    return await execute(ctx, actor, CommandType.NEW_DOMAIN, lookup_name(raw_name), run)


async def info_domain(ctx: ServiceContext, actor: Actor, raw_name: str) -> Domain:
    """A registrar sees only its own domains; another's is reported as not existing (no leak)."""
    return Domain.from_document(await info_domain_document(ctx, actor, raw_name))


async def info_domain_document(ctx: ServiceContext, actor: Actor, raw_name: str) -> dict[str, Any]:
    """The stored domain, for a channel that shows more than Domain holds (EPP info)."""

    async def run(_: str) -> dict[str, Any]:
        doc = await ctx.db[DOMAINS].find_one({"_id": lookup_name(raw_name), "registrar_id": actor.registrar_id})
        if doc is None:
            raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: domain [{raw_name}]")
        return doc

    return await execute(ctx, actor, CommandType.INFO_DOMAIN, lookup_name(raw_name), run,
                         requires=Permission.MY_REGISTRATIONS)
