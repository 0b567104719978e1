"""What the public may know of a domain (pure): one view that WHOIS, RDAP and DAS render. It never holds the
registrant's personal data: the read model does not have it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.publication import delegation


@dataclass(frozen=True)
class NameServer:
    name: str
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registrar:
    handle: str
    name: str
    website: str | None = None
    organisation: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublicDomain:
    name: str
    status: str  # REGISTERED | QUARANTINE
    registered_at: datetime | None
    expires_at: datetime | None
    changed_at: datetime | None
    delete_date: datetime | None
    available_on: datetime | None
    registrar: Registrar | None
    registrant: str | None
    name_servers: tuple[NameServer, ...]
    keys: tuple[Mapping[str, Any], ...]
    ds: tuple[str, ...]
    statuses: tuple[str, ...]
    on_hold: bool = False
    out_of_service: bool = False
    overridden: bool = False
    override_reason: str | None = None
    flags: tuple[str, ...] = field(default=())


def public_domain(doc: Mapping[str, Any], nsgroups: Mapping[str, Sequence[str]],
                  keygroups: Mapping[str, Sequence[Mapping[str, Any]]], registrar: Mapping[str, Any] | None,
                  landing: Sequence[str]) -> PublicDomain:
    override = doc.get("override")
    if override:  # what the world sees is the landing delegation
        servers = tuple(NameServer(n) for n in (override.get("name_servers") or landing))
    else:
        seen: dict[str, NameServer] = {}
        for host in doc.get("hosts", []):
            seen[host["name"]] = NameServer(host["name"], tuple(host.get("addresses", [])))
        for group in doc.get("nsgroups", []):
            for ns in nsgroups.get(group, []):
                seen.setdefault(ns, NameServer(ns))
        servers = tuple(seen.values())
    keys = tuple(k for group in doc.get("keygroups", []) for k in keygroups.get(group, []))
    ds = () if override else tuple(delegation.ds_records(delegation.absolute(doc["_id"]), keys))
    flags = tuple(sorted(doc.get("statuses", [])))
    return PublicDomain(
        name=doc["_id"], status=doc.get("status", "REGISTERED"), registered_at=doc.get("registered_at"),
        expires_at=doc.get("expires_at"), changed_at=doc.get("changed_at"), delete_date=doc.get("delete_date"),
        available_on=doc.get("available_on"),
        registrar=Registrar(registrar["_id"], registrar.get("name") or registrar["_id"], registrar.get("website"),
                            tuple(registrar.get("organisation") or ())) if registrar else None,
        registrant=doc.get("registrant"), name_servers=servers, keys=() if override else keys, ds=ds,
        statuses=flags, on_hold=bool(doc.get("on_hold")),
        out_of_service=bool(doc.get("out_of_service_since")), overridden=bool(override),
        override_reason=(override or {}).get("reason"), flags=flags)
