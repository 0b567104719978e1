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


class DomainUpdated(EventPayload):
    """A domain's contacts, name servers or groups changed; the fields hold the full new values."""

    event_type = "domain.updated"
    producer = "registry"

    name: str
    tech: list[str]
    onsite: list[str]
    name_servers: list[str]
    nsgroups: list[str]
    keygroups: list[str]


class DomainDeleted(EventPayload):
    """The registrar deleted the domain: it goes into quarantine at `delete_date` (unless undeleted before)."""

    event_type = "domain.deleted"
    producer = "registry"

    name: str
    delete_date: AwareDatetime


class DomainUndeleted(EventPayload):
    """A scheduled deletion was cancelled before its date."""

    event_type = "domain.undeleted"
    producer = "registry"

    name: str


class DomainQuarantined(EventPayload):
    """The delete date came: the domain is in quarantine until `available_on` (not active, not registrable)."""

    event_type = "domain.quarantined"
    producer = "registry"

    name: str
    quarantined_at: AwareDatetime
    available_on: AwareDatetime


class DomainReactivated(EventPayload):
    """The deleting registrar took the domain out of quarantine, exactly as it was before."""

    event_type = "domain.reactivated"
    producer = "registry"

    name: str


class DomainReleased(EventPayload):
    """Quarantine ended: the name is available for registration again. registrar_id: the last sponsor."""

    event_type = "domain.released"
    producer = "registry"

    name: str
