"""What the registry's HTTP answers hold, as typed models for the OpenAPI document.

Most of these answers are stored records shown as they are (a registrar account, a contact, a complaint): each
model names and types the fields a record has, and lets through a field it does not name (`Record`), so that a
model never drops or refuses what a route answered before. Routes that answer them set
`response_model_exclude_unset`: a field a record lacks stays absent rather than appearing as null."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.http.errors import ErrorBody


class Record(BaseModel):
    """A stored record: the fields described, and any other it carries, passed through as stored."""

    model_config = ConfigDict(extra="allow")


# -- the registrar account -------------------------------------------------------------------------------------

class PostalAddressView(Record):
    street: list[str] = Field(default_factory=list, description="1-3 lines")
    postal_code: str | None = None
    city: str | None = None
    province: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2", examples=["BE"])


class ProfileView(Record):
    organisation: list[str] = Field(default_factory=list)
    address: PostalAddressView | None = None
    phone: str | None = Field(default=None, examples=["+32.16284971"])
    fax: str | None = None
    website: str | None = None
    email: str | None = Field(default=None, description="general address for official, unstructured communication")
    languages: list[str] = Field(default_factory=list, description="nl, fr, en in the order preferred")
    automated_email: str | None = Field(default=None, description="where structured (CPS) messages go when poll "
                                        "is off")
    order_reference: str | None = None
    inform_registrant_myself: bool | None = None
    category: str | None = Field(default=None, description="primary business model (CENTR RRDG)")


class OfficialAddressView(Record):
    organisation: list[str] = Field(default_factory=list)
    address: PostalAddressView | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None


class ProductUrlsView(Record):
    urls: dict[str, dict[str, str]] = Field(default_factory=dict, description="per product: per language "
                                            "(or `default`) the URL", examples=[{"be": {"default": "https://x.be"}}])


class EppSettingsView(Record):
    poll: bool | None = Field(default=None, description="off: structured messages go out as CPS e-mail")
    ip_addresses: list[str] = Field(default_factory=list, description="up to 10 addresses EPP accepts")


class EmailCategoriesView(Record):
    newsletter: list[str] = Field(default_factory=list)
    legal: list[str] = Field(default_factory=list)
    technical: list[str] = Field(default_factory=list)
    abuse: list[str] = Field(default_factory=list)


class FinanceView(Record):
    vat: str | None = None
    payment_message: str | None = Field(default=None, description="structured message: +++ddd/dddd/ddddd+++")


class RegistrarAccount(Record):
    """A registrar account as its users (or the operator) see it: never password hashes or security codes."""

    registrar_id: str
    name: str | None = None
    status: str | None = Field(default=None, description="PENDING_ACTIVATION, ACTIVE or SUSPENDED")
    products: list[str] = Field(default_factory=list, description="the TLDs it is accredited for")
    resold_products: dict[str, str] | None = Field(default=None, description="gTLD: the accredited registrar")
    contract_language: str | None = None
    iana_id: int | None = None
    standing_order: bool | None = None
    lock_function: bool | None = Field(default=None, description="whether it may set clientTransferProhibited")
    blocked_until: datetime | None = Field(default=None, description="while hitpoints block it")
    application_id: str | None = None
    created_at: datetime | None = None
    activated_at: datetime | None = None
    profile: ProfileView | None = None
    official_address: OfficialAddressView | None = Field(default=None, description="read-only for the registrar")
    product_urls: ProductUrlsView | None = None
    epp_settings: EppSettingsView | None = None
    email_categories: EmailCategoriesView | None = None
    balance_cents: int | None = Field(default=None, description="only with a financial permission")
    finance: FinanceView | None = Field(default=None, description="only with a financial permission")


# the answer of PUT /api/registrar/<section>: the section as saved, and the command's reference
class ProfileSaved(BaseModel):
    profile: ProfileView
    reference: str = Field(description="the command's reference (hitpoints screen, audit)")


class ProductUrlsSaved(BaseModel):
    product_urls: ProductUrlsView
    reference: str


class EppSettingsSaved(BaseModel):
    epp_settings: EppSettingsView
    reference: str


class EmailCategoriesSaved(BaseModel):
    email_categories: EmailCategoriesView
    reference: str


SECTION_SAVED: dict[str, type[BaseModel]] = {"profile": ProfileSaved, "product_urls": ProductUrlsSaved,
                                             "epp_settings": EppSettingsSaved,
                                             "email_categories": EmailCategoriesSaved}


class LedgerLine(Record):
    at: datetime
    kind: str = Field(description="PREPAYMENT, REGISTRATION, RENEWAL, TRANSFER, REACTIVATION ...")
    object: str | None = Field(default=None, description="the domain (or reference) booked for")
    amount_cents: int = Field(description="credit positive, debit negative")
    balance_cents: int = Field(description="the balance after this booking")
    reference: str | None = None
    registrar_id: str | None = None


class BalanceAndLedger(BaseModel):
    balance_cents: int
    ledger: list[LedgerLine] = Field(description="the latest 200 bookings, newest first")


class TemporaryKey(BaseModel):
    temporary_key: str = Field(description="replaces the user's 2-step code once", examples=["042917"])
    valid_seconds: int = Field(examples=[90])


class TwoStepSetUp(BaseModel):
    totp_secret: str = Field(description="base32, for the authenticator app; shown this once")


class LoginAttempt(BaseModel):
    ip: str
    at: datetime
    success: bool


# -- contacts, lists -------------------------------------------------------------------------------------------

class ContactView(Record):
    alias: str
    registrar_id: str | None = None
    type: str | None = Field(default=None, description="REGISTRANT, BILLING, TECH or ONSITE")
    name: str | None = None
    organisation: str | None = None
    street: list[str] = Field(default_factory=list)
    city: str | None = None
    postal_code: str | None = None
    province: str | None = None
    country: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    language: str | None = None
    vat: str | None = None
    created_at: datetime | None = None
    copied_from: str | None = Field(default=None, description="#AUTO# transfer: the registrant it copies")
    verification: str | None = Field(default=None, description="UNVERIFIED, PENDING, VERIFIED or FAILED")
    verification_type: str | None = None
    verification_url: str | None = Field(default=None, description="while pending: the registrant's link")
    verification_case: str | None = None


class DomainListed(Record):
    name: str
    registrant: str | None = None
    status: str | None = None
    expires_at: datetime | None = None
    statuses: list[str] | None = None
    delete_date: datetime | None = None
    override_reason: str | None = Field(default=None, description="why the registry overrides its name servers")
    name_servers_overridden: bool | None = None


class ContactListed(Record):
    name: str = Field(description="the alias")
    type: str | None = None
    email: str | None = None
    organisation: str | None = None
    holder: str | None = Field(default=None, description="the contact's name")


class NameServerGroupListed(Record):
    name: str
    name_servers: list[str] | None = None
    domains: int = Field(description="how many of your domains use it")


class KeyListed(Record):
    flags: int | None = None
    protocol: int | None = None
    algorithm: int | None = None
    public_key: str | None = None


class KeyGroupListed(Record):
    name: str
    keys: list[KeyListed] | None = None
    domains: int = Field(description="how many of your domains use it")


class DomainPage(BaseModel):
    items: list[DomainListed] = Field(description="in name order")
    next: str | None = Field(description="the `after` of the next page; null on the last")


class ContactPage(BaseModel):
    items: list[ContactListed] = Field(description="in alias order")
    next: str | None = Field(description="the `after` of the next page; null on the last")


class NameServerGroupPage(BaseModel):
    items: list[NameServerGroupListed] = Field(description="in name order")
    next: str | None = Field(description="the `after` of the next page; null on the last")


class KeyGroupPage(BaseModel):
    items: list[KeyGroupListed] = Field(description="in name order")
    next: str | None = Field(description="the `after` of the next page; null on the last")


# -- locks -----------------------------------------------------------------------------------------------------

class LockRequestView(Record):
    at: datetime | None = None
    user_id: str | None = None
    reference: str | None = None


class ComplaintView(Record):
    complaint_id: str
    name: str | None = None
    registrar_id: str | None = None
    note: str | None = Field(default=None, description="who complained and why")
    status: str | None = Field(default=None, description="OPEN, ANSWERED, UPHELD, REJECTED or LIFTED")
    filed_at: datetime | None = None
    deadline: datetime | None = Field(default=None, description="the registrar answers before it (48 hours)")
    lock_request: LockRequestView | None = None
    evidence: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    closed_at: datetime | None = None


class ComplaintsOfRegistrar(BaseModel):
    count: int
    open: int = Field(description="waiting for your answer or the operator's decision")
    complaints: list[ComplaintView] = Field(description="newest first")


# -- the operator's ---------------------------------------------------------------------------------------------

class RegistrarCreated(BaseModel):
    registrar_id: str
    status: str = Field(examples=["ACTIVE"])


class PrepaymentBooked(BaseModel):
    balance_cents: int = Field(description="the balance after the booking")


class LifecycleRun(Record):
    quarantined: int
    released: int
    locks_lifted: int


class RenewalRun(Record):
    renewed: int


class SecurityCodeState(Record):
    issued_at: datetime | None = None
    failed_attempts: int | None = None
    locked: bool | None = Field(default=None, description="five wrong codes: a new code is needed")


class ApplicationView(Record):
    """Never the security code's hash: only when it was issued and how many wrong codes were tried."""

    application_id: str
    status: str | None = None
    registrar_id: str | None = None
    created_at: datetime | None = None
    activated_at: datetime | None = None
    application: dict[str, Any] | None = Field(default=None, description="the application as recorded: "
                                               "organisation, products, resellers, prepayment")
    contract: dict[str, Any] | None = None
    prepayment: dict[str, Any] | None = None
    security_code: SecurityCodeState | None = None


class HostView(Record):
    name: str
    addresses: list[str] = Field(default_factory=list)


class DomainRecord(Record):
    """A domain as the registry holds it (any registrar's), for the staff pages."""

    name: str
    registrar_id: str | None = None
    registrant: str | None = None
    status: str | None = None
    statuses: list[str] | None = None
    override: dict[str, Any] | None = Field(default=None, description="the registry's override of its name "
                                            "servers, with its reason")
    registered_at: datetime | None = None
    expires_at: datetime | None = None
    name_servers: list[HostView] | None = None
    nsgroups: list[str] | None = None


class PublicRegistrar(BaseModel):
    registrar_id: str
    name: str
    url: str = Field(description="the registrar's page for the product, in the language asked (or its default)")


# -- sign-in in two steps (users/pending.py) ----------------------------------------------------------------------

class LoginRefused(ErrorBody):
    """A refused login (401). `two_step_required` tells a right password of an account with 2-step from any
    other refusal, and hands the pending token for the code step; a wrong password reads exactly like an
    unknown user id."""

    two_step_required: bool = Field(default=False, description=(
        "true: the password was right and the account has 2-step: send the code with `pending` to the code step "
        "(POST /api/login/code, or /api/staff/login/code)"))
    pending: str | None = Field(default=None, description=(
        "with two_step_required: the pending sign-in token, for the code step only; it opens one session"))
    pending_expires_in: int | None = Field(default=None, description="with two_step_required: seconds it stays valid",
                                           examples=[300])
    sign_in_again: bool = Field(default=False, description=(
        "the code step only: the pending token is unknown, used or expired; start again with the password"))
