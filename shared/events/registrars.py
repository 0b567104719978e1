"""Registrar and user events (published by the registry)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.events.envelope import EventPayload


class RegistrarCategory(StrEnum):
    """The registrar's primary business model, after the CENTR RRDG "Registrar business models" (seven, 2017):
    the quarterly report benchmarks a registrar against the others of its category (digest 6.1)."""

    DOMAIN_INVESTOR = "DOMAIN_INVESTOR"  # sells to domain investors, or invests itself
    CORPORATE = "CORPORATE"  # registers for its own use: companies, government, organisations
    BRAND_PROTECTION = "BRAND_PROTECTION"  # brand protection services for corporate entities
    RETAIL_AND_HOSTING = "RETAIL_AND_HOSTING"  # names, hosting or web services sold to end customers
    WHOLESALE = "WHOLESALE"  # registrar services for resellers, B2B only
    ACCESS_PROVIDER = "ACCESS_PROVIDER"  # a telco selling mainly access
    IT_INFRASTRUCTURE = "IT_INFRASTRUCTURE"  # infrastructure, security, managed service providers


class RegistrarCreated(EventPayload):
    """An operator created a registrar account (with its administrator user); it awaits activation."""

    event_type = "registrar.created"
    producer = "registry"

    name: str
    products: list[str] = Field(description="TLDs the registrar is accredited for, e.g. ['be']")
    languages: list[str] = Field(description="ordered preference of nl, fr, en")
    email: str
    # optional (added for notifications): where structured (CPS) mail goes, and whether EPP poll is on
    automated_email: str | None = Field(default=None, description="the automated e-mail address (CPS mails)")
    poll: bool | None = Field(default=None, description="EPP poll messages switched on")
    inform_registrant_myself: bool | None = Field(
        default=None, description="the registrar mails the verification link to its registrants itself")
    # optional (added for the quarterly report's category group); registrar.updated (profile) carries it too
    category: RegistrarCategory | None = Field(default=None, description="the registrar's business model, if set")
    # optional (added for publication: WHOIS and RDAP show them); registrar.updated (profile) carries them too
    website: str | None = Field(default=None, description="the profile's website, shown in the native WHOIS")
    organisation: list[str] = Field(default_factory=list, description="the profile's organisation lines")


class RegistrarActivated(EventPayload):
    """The registrar activated its account with its security code."""

    event_type = "registrar.activated"
    producer = "registry"

    # optional (added later): consumers of the first version may not find them
    application_id: str | None = Field(default=None, description="the application the account came from")
    products: list[str] = Field(default_factory=list, description="TLDs it registers in directly")


class RegistrarUpdated(EventPayload):
    """Part of a registrar's account changed; `section` names which, `changes` the new values."""

    event_type = "registrar.updated"
    producer = "registry"

    section: str = Field(description="profile | product_urls | finance | official_address | epp_settings | "
                                     "email_categories | lock_function | status")
    changes: dict[str, object] = Field(default_factory=dict, description="the new values (never secrets)")
    by_operator: bool = False


class UserCreated(EventPayload):
    """A user was added to a registrar's account (the administrator user when the account is created)."""

    event_type = "user.created"
    producer = "registry"

    user_id: str
    permissions: list[str]


class UserUpdated(EventPayload):
    """A user's permissions, password, 2-step set-up or temporary key changed (never the secret itself)."""

    event_type = "user.updated"
    producer = "registry"

    user_id: str
    change: str = Field(description="permissions | password | epp_password | two_step_reset | temporary_key")
    permissions: list[str] | None = None


class UserDeleted(EventPayload):
    """A user was removed from a registrar's account."""

    event_type = "user.deleted"
    producer = "registry"

    user_id: str


class RegistrarApplicationRecorded(EventPayload):
    """An operator recorded an application to become a registrar (no account exists yet: no registrar_id)."""

    event_type = "registrar.application_recorded"
    producer = "registry"

    application_id: str
    name: str
    email: str
    products: list[str] = Field(description="TLDs it will register in directly (.be, or gTLDs it is accredited for)")
    resold_products: dict[str, str] = Field(
        default_factory=dict, description="gTLD -> the accredited registrar it resells that gTLD through"
    )
    contract_language: str
    prepayment_cents: int
    standing_order: bool


class RegistrarContractSigned(EventPayload):
    """The applicant signed its contract: its account exists (registrar.created), awaiting prepayment and
    activation."""

    event_type = "registrar.contract_signed"
    producer = "registry"

    application_id: str
    contract_reference: str | None = None


class SecurityCodeIssued(EventPayload):
    """A 12-digit security code to activate the account was issued, for the letter (never carries the code)."""

    event_type = "registrar.security_code_issued"
    producer = "registry"

    application_id: str
    reissued: bool = Field(default=False, description="true when an operator replaced an earlier code")


class RegistrarActivationFailed(EventPayload):
    """An activation was tried with a wrong security code; `locked` once the attempts are used up."""

    event_type = "registrar.activation_failed"
    producer = "registry"

    failed_attempts: int
    locked: bool
