"""A registrar account and its administrator user, created by an operator (POST /api/operator/registrars, active
at once) or by the onboarding's contract step (pending its activation).

Checks: the products are served here (2306); the EPP password (at most 16) and the administrator's password
follow the policy (2306); neither the registrar id nor a user of that id exists (2302).
Events: registrar.created, user.created.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.registry.registrars.model import (
    REGISTRAR_ID,
    EmailCategories,
    EppSettings,
    Finance,
    Language,
    OfficialAddress,
    ProductUrls,
    Profile,
    RegistrarStatus,
    structured_message,
)
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from services.registry.store import REGISTRARS, USERS
from services.registry.uow import Tx
from services.registry.users.model import admin_document
from services.registry.users.passwords import check_policy, hash_password
from shared.events import EventEnvelope, new_event
from shared.events.registrars import RegistrarCreated, UserCreated
from shared.runtime import ServiceContext


class NewRegistrar(BaseModel):
    """What an operator records to create a registrar account (with its administrator user)."""

    model_config = ConfigDict(extra="forbid")

    registrar_id: str = Field(pattern=REGISTRAR_ID.pattern)
    name: str = Field(min_length=1, max_length=160)
    profile: Profile
    official_address: OfficialAddress
    products: list[str] = Field(min_length=1)
    vat: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$")
    contract_language: Language = Language.EN
    standing_order: bool = False
    admin_password: SecretStr
    epp_password: SecretStr


def _stable_number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def registrar_document(new: NewRegistrar, status: RegistrarStatus, ctx: ServiceContext) -> dict[str, Any]:
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    unknown = set(new.products) - set(settings.tlds)
    if unknown:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"products {sorted(unknown)} are not served here")
    epp = new.epp_password.get_secret_value()
    try:
        check_policy(epp, max_length=16)
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"EPP password: {exc}") from exc
    return {
        "_id": new.registrar_id,
        "name": new.name,
        "status": status.value,
        "products": sorted(set(new.products)),
        "contract_language": new.contract_language.value,
        "standing_order": new.standing_order,
        "profile": new.profile.model_dump(mode="json"),
        "official_address": new.official_address.model_dump(mode="json"),
        "product_urls": ProductUrls().model_dump(mode="json"),
        "finance": Finance(vat=new.vat, payment_message=structured_message(_stable_number(new.registrar_id))).model_dump(),
        "epp_settings": EppSettings().model_dump(),
        "email_categories": EmailCategories().model_dump(),
        "epp_password_hash": hash_password(epp),
        "balance_cents": 0,
        "lock_function": True,
        "created_at": ctx.clock.now(),
    }


async def insert_registrar(
    ctx: ServiceContext, tx: Tx, new: NewRegistrar, status: RegistrarStatus, correlation_id: str
) -> list[EventEnvelope[Any]]:
    """Create the registrar and its administrator user; returns the events to publish."""
    doc = registrar_document(new, status, ctx)
    if await tx[REGISTRARS].find_one({"_id": new.registrar_id}, {"_id": 1}) or (
        await tx[USERS].find_one({"_id": new.registrar_id}, {"_id": 1})
    ):
        raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: registrar [{new.registrar_id}]")
    try:
        admin = admin_document(new.registrar_id, new.admin_password.get_secret_value(), ctx.clock.now())
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"administrator password: {exc}") from exc
    await tx[REGISTRARS].insert_one(doc)
    await tx[USERS].insert_one(admin)

    def event(payload: Any) -> EventEnvelope[Any]:
        return new_event(payload, registrar_id=new.registrar_id, correlation_id=correlation_id, clock=ctx.clock)

    return [
        event(RegistrarCreated(name=new.name, products=doc["products"],
                               languages=[lang.value for lang in new.profile.languages], email=str(new.profile.email),
                               automated_email=str(new.profile.automated_email),
                               poll=doc["epp_settings"]["poll"],
                               inform_registrant_myself=new.profile.inform_registrant_myself,
                               category=new.profile.category,
                               website=str(new.profile.website) if new.profile.website else None,
                               organisation=list(new.profile.organisation))),
        event(UserCreated(user_id=new.registrar_id, permissions=admin["permissions"])),
    ]
