"""Contact events (published by the registry). They carry the contact's data: verification scores
registrants on it, reporting lists contacts. Consumers must treat it as personal data."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class ContactData(EventPayload):
    """Fields shared by contact.created and contact.updated (not an event of its own)."""

    event_type = "contact._data"
    producer = "registry"

    alias: str
    type: str = Field(description="REGISTRANT | BILLING | TECH | ONSITE")
    name: str
    organisation: str | None = None
    street: list[str]
    city: str
    postal_code: str
    province: str | None = None
    country: str
    phone: str
    fax: str | None = None
    email: str
    language: str
    vat: str | None = None


class ContactCreated(ContactData):
    """A contact was created; a registrant contact starts UNVERIFIED."""

    event_type = "contact.created"


class ContactUpdated(ContactData):
    """A contact's data changed (its type never does)."""

    event_type = "contact.updated"


class ContactDeleted(EventPayload):
    """A contact no domain used any more was deleted."""

    event_type = "contact.deleted"
    producer = "registry"

    alias: str
    type: str
    # optional (added for notifications): the registry's clean-up deleted it, not its registrar; only then
    # is the registrar told (DEL_CONTACT_BY_REGISTRY)
    by_registry: bool = False
