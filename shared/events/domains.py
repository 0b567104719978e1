"""Domain events (published by the registry)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class NameServerHost(EventPayload):
    """A name server given on the domain (EPP hostAttr), with its addresses when it lies inside the domain
    (glue). A value inside domain events, not an event of its own."""

    event_type = "domain._host"
    producer = "registry"

    name: str
    addresses: list[str] = Field(default_factory=list, description="IPv4/IPv6 glue, only for in-domain hosts")


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
    # optional (added for publication: the zone's glue); absent from earlier events: no glue known
    hosts: list[NameServerHost] = Field(default_factory=list, description="name_servers with their glue addresses")


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
    # optional (added for publication: the zone's glue); absent from earlier events: no glue known
    hosts: list[NameServerHost] = Field(default_factory=list, description="name_servers with their glue addresses")


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
    """The name left the registry and is available for registration again: its quarantine ended, or it was out of
    service and its two months to move to another registrar ended (digest 4.1) without going through quarantine.
    registrar_id: the last sponsor."""

    event_type = "domain.released"
    producer = "registry"

    name: str


class DomainTransferred(EventPayload):
    """The domain moved to another registrar and/or another registrant with its transfer code (executed at
    once). The envelope's registrar_id is the gaining registrar."""

    event_type = "domain.transferred"
    producer = "registry"

    name: str
    gaining_registrar_id: str
    losing_registrar_id: str
    old_registrant: str | None
    new_registrant: str
    from_quarantine: bool = Field(description="the name was in quarantine: it leaves quarantine with this transfer")
    expires_at: AwareDatetime = Field(description="the transfer starts a new registration period")


class DomainLocked(EventPayload):
    """A lock status was set on the domain: clientTransferProhibited by its registrar, or a server* status
    by the registry."""

    event_type = "domain.locked"
    producer = "registry"

    name: str
    status: str = Field(description="clientTransferProhibited, serverTransferProhibited, serverUpdateProhibited …")
    by_operator: bool


class DomainUnlocked(EventPayload):
    """A lock status was cleared: by its registrar, by the registry, or by the registry after an unanswered
    complaint (reason complaint_unanswered)."""

    event_type = "domain.unlocked"
    producer = "registry"

    name: str
    status: str
    by_operator: bool
    reason: str | None = None


class TransferCodeSent(EventPayload):
    """A transfer code was issued (or its validity extended) and is to be mailed to the registrant. The code
    travels sealed (shared.sealing, under INTERNAL_SECRET): only the mailer opens it, no other subscriber."""

    event_type = "domain.transfer_code_sent"
    producer = "registry"

    name: str
    registrant: str
    email: str
    sealed_code: str = Field(description="the code (5 groups of 3 digits), sealed for the mailer")
    valid_until: AwareDatetime
    sends: int = Field(ge=1, le=4)
    url: str | None = None


class LockComplaintFiled(EventPayload):
    """An operator filed a complaint against a client lock: the registrar must show the registrant's request
    before `deadline`, or the registry lifts the lock."""

    event_type = "domain.lock_complaint_filed"
    producer = "registry"

    name: str
    complaint_id: str
    deadline: AwareDatetime


class LockComplaintClosed(EventPayload):
    """A lock complaint ended: upheld (the registrar showed the request), lifted (the lock was removed by the
    registrar or by the registry at the deadline) or withdrawn."""

    event_type = "domain.lock_complaint_closed"
    producer = "registry"

    name: str
    complaint_id: str
    outcome: str


class DomainOverrideChanged(EventPayload):
    """The domain's published name servers were overridden (it stays registered but is not delegated) or
    the override was lifted. While overridden, the zone must carry `published_name_servers`."""

    event_type = "domain.override_changed"
    producer = "registry"

    name: str
    overridden: bool
    reason: str | None = None
    published_name_servers: list[str] = Field(default_factory=list)


class DomainRenewed(EventPayload):
    """The month-end renewal (.be renews automatically; digest 4.2) renewed the domain for a year and
    charged its sponsoring registrar, even on a negative balance. Published once per renewal."""

    event_type = "domain.renewed"
    producer = "registry"

    name: str
    registrar_id: str = Field(description="the sponsoring registrar, charged for the renewal")
    expires_at: AwareDatetime = Field(description="the end of the new registration period")


class DomainHoldChanged(EventPayload):
    """The registry put the domain on hold (an ADR or court case is pending: it cannot be deleted or
    transferred, and it stays delegated, digest 4.1) or lifted the hold. Added in contract 1.1.0."""

    event_type = "domain.hold_changed"
    producer = "registry"

    name: str
    on_hold: bool
    reason: str | None = Field(default=None, description="why, e.g. the case reference; absent when lifted")


class DomainServiceChanged(EventPayload):
    """The registry took the domain out of service (its registrar's contract ended: the registrant has two months
    to transfer it; it leaves the zone at the end of its expiry month, digest 4.1) or back into service (its
    registrant moved it to a registrar with a contract, or the registry lifted it). Added in contract 1.1.0."""

    event_type = "domain.service_changed"
    producer = "registry"

    name: str
    out_of_service: bool
    since: AwareDatetime | None = Field(default=None, description="when it went out of service; absent when back")
    expires_at: AwareDatetime | None = Field(
        default=None, description="the end of its registration period: out of service, it leaves the zone at the "
                                  "end of that month (Brussels time)")
