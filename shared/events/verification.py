"""Registrant verification decisions (published by the verification service; the registry applies them:
it keeps the contact's verification status and overrides or restores the domains' name servers)."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class VerificationRequired(EventPayload):
    """The registrant contact of `domain` must prove its identity: the contact becomes PENDING and the
    domain's name servers are overridden until it is verified."""

    event_type = "verification.required"
    producer = "verification"

    contact: str = Field(description="alias of the registrant contact")
    domain: str = Field(description="the registration that was selected or that the pending contact registered")
    reason: str = Field(default="Registrant verification pending", description="shown with the override")


class VerificationApproved(EventPayload):
    """The registrant proved its identity: the contact becomes VERIFIED and the overrides of its domains
    that rested on the verification are lifted."""

    event_type = "verification.approved"
    producer = "verification"

    contact: str


class VerificationFailed(EventPayload):
    """No (acceptable) proof: the contact becomes FAILED; its domains stay registered and overridden."""

    event_type = "verification.failed"
    producer = "verification"

    contact: str
