"""What a domain is: the stored document's view, its name servers (glue only inside the domain), and the
statuses a domain carries (RFC 5731 and .be's Domain Guard)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.registry.groups.model import MAX_NAME_SERVERS, host_name
from services.registry.results import CommandRefused, Result

REGISTERED, QUARANTINE = "REGISTERED", "QUARANTINE"
CLIENT_LOCK = "clientTransferProhibited"
SERVER_STATUSES = ("serverTransferProhibited", "serverUpdateProhibited", "serverDeleteProhibited")


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
    # the reason while the name servers are overridden (services/registry/domains/override.py)
    override_reason: str | None = None
    # end of the paid period: the month-end renewal (services/registry/domains/renewal.py) moves it a year on
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
