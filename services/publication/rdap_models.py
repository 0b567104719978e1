"""The shapes of the RDAP answers (RFC 9083) that rdap.py builds, for the OpenAPI document. The routes answer
rdap.py's JSON as it is (these models describe it, they do not filter it); a member RFC 9083 allows and a
model does not name is let through."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RdapModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(RdapModel):
    value: str
    rel: str = Field(examples=["self"])
    href: str
    type: str | None = Field(default=None, examples=["application/rdap+json"])


class Notice(RdapModel):
    title: str | None = None
    description: list[str] = Field(default_factory=list)
    links: list[Link] | None = None


class Event(RdapModel):
    eventAction: str = Field(examples=["registration"])  # noqa: N815 (RFC 9083's member names)
    eventDate: str = Field(description="RFC 3339")  # noqa: N815


class Entity(RdapModel):
    objectClassName: str = Field(examples=["entity"])  # noqa: N815
    handle: str
    roles: list[str] = Field(default_factory=list, examples=[["registrar"]])
    vcardArray: list[Any] | None = Field(default=None, description="jCard (RFC 7095); a registrant's "  # noqa: N815
                                         "personal data redacted (RFC 9537)")
    links: list[Link] | None = None


class IpAddresses(RdapModel):
    v4: list[str] = Field(default_factory=list)
    v6: list[str] = Field(default_factory=list)


class Nameserver(RdapModel):
    objectClassName: str = Field(examples=["nameserver"])  # noqa: N815
    handle: str
    ldhName: str  # noqa: N815
    unicodeName: str | None = None  # noqa: N815
    ipAddresses: IpAddresses | None = None  # noqa: N815
    links: list[Link] = Field(default_factory=list)


class DsData(RdapModel):
    keyTag: int  # noqa: N815
    algorithm: int
    digestType: int  # noqa: N815
    digest: str


class SecureDns(RdapModel):
    delegationSigned: bool  # noqa: N815
    dsData: list[DsData] = Field(default_factory=list)  # noqa: N815


class Top(RdapModel):
    rdapConformance: list[str] = Field(examples=[["rdap_level_0", "redacted"]])  # noqa: N815
    notices: list[Notice] = Field(default_factory=list)


class DomainAnswer(Top):
    objectClassName: str = Field(examples=["domain"])  # noqa: N815
    handle: str
    ldhName: str = Field(description="the A-label name")  # noqa: N815
    unicodeName: str | None = Field(default=None, description="an IDN's U-label name")  # noqa: N815
    status: list[str] = Field(description="RFC 8056 statuses", examples=[["active"]])
    events: list[Event] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list, description="the registrar, and the registrant redacted")
    nameservers: list[Nameserver] = Field(default_factory=list)
    secureDNS: SecureDns | None = None  # noqa: N815
    remarks: list[Notice] | None = Field(default=None, description="why the name servers are overridden")
    redacted: list[dict[str, Any]] | None = Field(default=None, description="RFC 9537: what was left out")


class EntityAnswer(Top, Entity):
    pass


class NameserverAnswer(Top, Nameserver):
    pass


class HelpAnswer(Top):
    pass


class ErrorAnswer(Top):
    errorCode: int = Field(examples=[404])  # noqa: N815
    title: str
    description: list[str] = Field(default_factory=list)
