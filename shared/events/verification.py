"""Registrant verification decisions (published by the verification service).

The registry applies them: it keeps the contact's verification status and overrides or restores the
domains' name servers. Notifications tells the registrar (poll or CPS: 1505 required, 1000 approved,
1507 undone) and the registrant (the mail with the verification link).

The verification link carries an unguessable token, so it travels sealed (shared.sealing, purpose
VERIFICATION_LINK_SEAL, under INTERNAL_SECRET): only the mailer and the registry open it.
"""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload

VERIFICATION_LINK_SEAL = "verification-link"


class VerificationRequired(EventPayload):
    """The registrant contact of `domain` must prove its identity: the contact becomes PENDING and the
    domain's name servers are overridden until it is verified.

    `first` is true for the registration that selected the contact: the registrar then hears of the contact
    and the domain (two 1505 messages) and the registrant gets the mail with the link. A later domain of a
    contact that is still pending comes with `first` false: one 1505 message for that domain only."""

    event_type = "verification.required"
    producer = "verification"

    contact: str = Field(description="alias of the registrant contact")
    domain: str = Field(description="the registration that was selected or that the pending contact registered")
    reason: str = Field(default="Registrant verification pending", description="shown with the override")
    # added in the verification service's issue; optional so that earlier events still decode
    case_id: str | None = Field(default=None, description="the verification case")
    first: bool = Field(default=True, description="true when this registration opened the case")
    email: str | None = Field(default=None, description="the registrant's e-mail, where the link is sent")
    language: str | None = Field(default=None, description="the registrant's language (nl, fr, en)")
    sealed_link: str | None = Field(default=None, description="the verification URL, sealed for the mailer "
                                                              "and the registry (VERIFICATION_LINK_SEAL)")


class VerificationLinkResent(EventPayload):
    """The registrar (or support) asked for the verification mail to be sent to the registrant again."""

    event_type = "verification.link_resent"
    producer = "verification"

    contact: str
    case_id: str
    email: str
    language: str | None = None
    sealed_link: str


class VerificationApproved(EventPayload):
    """The registrant proved its identity: the contact becomes VERIFIED and the overrides of its domains
    that rested on the verification are lifted. One 1000 message for the contact and one per domain."""

    event_type = "verification.approved"
    producer = "verification"

    contact: str
    case_id: str | None = None
    method: str | None = Field(default=None, description="eid | documents | registrar | support")
    domains: list[str] = Field(default_factory=list, description="the domains whose override is lifted")
    email: str | None = Field(default=None, description="the registrant's e-mail, to tell it")
    language: str | None = None
    additional: bool = Field(default=False, description=(
        "approves domains registered while the case was open whose registration reached the verification "
        "service after the approval: the contact's own message went out with the first approval"))


class VerificationFailed(EventPayload):
    """No (acceptable) proof: the contact becomes FAILED; its domains stay registered and overridden."""

    event_type = "verification.failed"
    producer = "verification"

    contact: str
    case_id: str | None = None
    reason: str | None = Field(default=None, description="attempts exhausted | rejected | expired | ...")
    domains: list[str] = Field(default_factory=list)
    email: str | None = None
    language: str | None = None


class VerificationUndone(EventPayload):
    """A VERIFIED registrant contact was updated: it reverts to UNVERIFIED (1507 to the registrar; support
    is told). Domains already active stay active."""

    event_type = "verification.undone"
    producer = "verification"

    contact: str


class VerificationSupportNotice(EventPayload):
    """Something about a registrant's verification that support staff must look at: a verified contact was
    updated (they check the new data by hand), a registrant used every attempt, or an individual reached
    the cap of verifications. Added in the verification service's issue; for support's mailbox."""

    event_type = "verification.support_notice"
    producer = "verification"

    contact: str
    case_id: str | None = None
    reason: str = Field(description="verified_contact_updated | attempts_exhausted | individual_cap_reached")
    detail: str | None = None
