"""Domain events (published by the registry)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class DomainCreated(EventPayload):
    """A domain name was registered. The envelope's registrar_id is the sponsoring registrar."""

    event_type = "domain.created"
    event_version = 1
    producer = "registry"

    name: str = Field(description="the fully qualified name in A-label (LDH) form, e.g. example.be")
    tld: str = Field(description="the top-level domain (product), e.g. be")
    registrant: str | None = Field(default=None, description="alias of the registrant contact")
    registered_at: AwareDatetime
    name_servers: list[str] = Field(default_factory=list, description="host names given on the domain itself")
    nsgroups: list[str] = Field(default_factory=list)
    keygroups: list[str] = Field(default_factory=list)
