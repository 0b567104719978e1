"""What a contact is (digest 5.4, seeds): its type, its fields in .be's formats, the verification status the
verification service drives, and the payload its events carry.

Aliases are unique registry-wide; a contact is used only in the role it was created for.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.registry.registrars.model import PHONE, Language

MAX_TECH_PER_REGISTRAR = 10
MAX_PER_DOMAIN = {"TECH": 5, "ONSITE": 5}
# RFC 5733 clIDType: 3-16 characters; '@' and spaces are not allowed in .be aliases
ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{2,15}$")


class ContactType(StrEnum):
    REGISTRANT = "REGISTRANT"
    BILLING = "BILLING"
    TECH = "TECH"
    ONSITE = "ONSITE"


class VerificationStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    organisation: str | None = Field(default=None, max_length=255)
    street: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(min_length=1, max_length=3)
    city: str = Field(min_length=1, max_length=255)
    postal_code: str = Field(min_length=1, max_length=16)
    province: str | None = Field(default=None, max_length=255)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    phone: str = Field(pattern=PHONE)
    fax: str | None = Field(default=None, pattern=PHONE)
    email: EmailStr
    language: Language = Language.EN
    vat: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$")

    @field_validator("name", "organisation", "city", "province")
    @classmethod
    def latin_1(cls, v: str | None) -> str | None:
        # .be contact data is ISO-8859-1
        if v is not None:
            try:
                v.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise ValueError("only ISO-8859-1 characters") from exc
        return v


class NewContact(ContactFields):
    alias: str
    type: ContactType


def contact_payload(doc: dict[str, Any]) -> dict[str, Any]:
    fields = {k: doc.get(k) for k in ContactFields.model_fields}
    return fields | {"alias": doc["_id"], "type": doc["type"]}


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """The contact as its registrar sees it."""
    return {"alias": doc["_id"], **{k: v for k, v in doc.items() if k not in {"_id", "reference"}}}
