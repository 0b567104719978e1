"""The registrar account's sections as typed models: what the registrar (or an operator) may write.

Validation follows the seeds: phone and fax in E.164 as +CC.NUMBER, languages an ordered choice of
nl/fr/en, up to 10 EPP addresses, up to 5 addresses per e-mail category, the profile's optional category
one of the RRDG business models (RegistrarCategory).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

from services.registry.registrars.countries import check_country, check_postal_code
from shared.events.registrars import RegistrarCategory

PHONE = r"^\+[0-9]{1,3}\.[0-9]{4,14}$"


class Language(StrEnum):
    NL = "nl"
    FR = "fr"
    EN = "en"


def _distinct(values: list[Language]) -> list[Language]:
    if len(set(values)) != len(values):
        raise ValueError("each language at most once")
    return values


Languages = Annotated[list[Language], Field(min_length=1, max_length=3), AfterValidator(_distinct)]
Phone = Annotated[str, Field(pattern=PHONE, examples=["+32.16284971"])]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["BE"]), AfterValidator(check_country)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(Strict):
    street: list[Annotated[str, Field(max_length=80)]] = Field(min_length=1, max_length=3)
    postal_code: str = Field(min_length=1, max_length=16)
    city: str = Field(min_length=1, max_length=80)
    province: str | None = Field(default=None, max_length=80)
    country: Country

    @field_validator("street")
    @classmethod
    def first_line_required(cls, v: list[str]) -> list[str]:
        if not v[0]:
            raise ValueError("the first street line is required")
        return v

    @model_validator(mode="after")
    def postal_code_of_its_country(self) -> Address:
        check_postal_code(self.country, self.postal_code)
        return self


class Profile(Strict):
    """Shown to end users in part (WHOIS); updated by the registrar."""

    organisation: list[Annotated[str, Field(max_length=80)]] = Field(min_length=1, max_length=2)
    address: Address
    phone: Phone
    fax: Phone | None = None
    website: HttpUrl | None = None
    email: EmailStr = Field(description="general address for official, unstructured communication")
    languages: Languages
    automated_email: EmailStr = Field(description="where structured (CPS) messages go when poll is off")
    order_reference: str | None = Field(default=None, max_length=64)
    # registrant verification (seed): the registrar tells its registrants itself
    inform_registrant_myself: bool = Field(
        default=False, description="the registry does not mail the verification link to a selected "
        "registrant: the registrar fetches the URL (info-contact v2.0, or GET "
        "/api/verification/contacts/{alias}/url) and informs the registrant itself")
    # the vocabulary is the event catalogue's: reporting groups registrars by it (none: no category group)
    category: RegistrarCategory | None = Field(
        default=None, description="primary business model (CENTR RRDG): the quarterly report's category benchmark")


class OfficialAddress(Strict):
    """Contract and invoice address: read-only for the registrar, changed by an operator."""

    organisation: list[Annotated[str, Field(max_length=80)]] = Field(min_length=1, max_length=2)
    address: Address
    phone: Phone | None = None
    fax: Phone | None = None
    email: EmailStr | None = None


def _ip(value: str) -> str:
    return str(ipaddress.ip_address(value))


def _unique_ips(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("each IP address at most once")
    return values


class EppSettings(Strict):
    poll: bool = False
    ip_addresses: Annotated[
        list[Annotated[str, AfterValidator(_ip)]], Field(max_length=10), AfterValidator(_unique_ips)
    ] = Field(default_factory=list)


Emails = Annotated[list[EmailStr], Field(max_length=5)]


class EmailCategory(StrEnum):
    NEWSLETTER = "newsletter"
    LEGAL = "legal"
    TECHNICAL = "technical"
    ABUSE = "abuse"


class EmailCategories(Strict):
    newsletter: Emails = Field(default_factory=list, description="no fallback: empty means no newsletter")
    legal: Emails = Field(default_factory=list)
    technical: Emails = Field(default_factory=list)
    abuse: Emails = Field(default_factory=list)

    def addresses(self, category: EmailCategory, general: str) -> list[str]:
        """Where a mail of this category goes: its addresses, else the general one (never for the newsletter)."""
        own = [str(e) for e in getattr(self, category.value)]
        if own or category is EmailCategory.NEWSLETTER:
            return own
        return [general]


class ProductUrls(Strict):
    """Per product (TLD): one URL for every language, or one per language."""

    urls: dict[str, dict[str, HttpUrl]] = Field(
        default_factory=dict, examples=[{"be": {"default": "https://example.be/register", "fr": "https://exemple.be"}}]
    )

    @field_validator("urls")
    @classmethod
    def languages_known(cls, v: dict[str, dict[str, HttpUrl]]) -> dict[str, dict[str, HttpUrl]]:
        for per_language in v.values():
            unknown = set(per_language) - {"default", "nl", "fr", "en"}
            if unknown:
                raise ValueError(f"unknown language keys {sorted(unknown)}")
        return v


class Finance(Strict):
    vat: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$", description="never changed by the registrar")
    payment_message: str = Field(description="structured message for payments: +++ddd/dddd/ddddd+++")


class RegistrarStatus(StrEnum):
    PENDING_ACTIVATION = "PENDING_ACTIVATION"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


def structured_message(number: int) -> str:
    """A Belgian structured payment message (OGM/VCS): 10 digits and their modulo-97 check."""
    base = number % 10**10
    check = base % 97 or 97
    digits = f"{base:010d}{check:02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


REGISTRAR_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,31}$")
