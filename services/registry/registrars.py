"""Registrar accounts: creation by an operator, the sections a registrar or an operator updates, the
demo registrar, and the hitpoints block the registry enforces."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.registrar_model import (
    REGISTRAR_ID,
    Address,
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
from services.registry.users import USERS, admin_document
from shared.events import EventEnvelope, new_event
from shared.events.hitpoints import RegistrarBlocked, RegistrarUnblocked
from shared.events.registrars import RegistrarCreated, RegistrarUpdated, UserCreated
from shared.mongo.indexes import CollectionIndexes
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
REGISTRARS = "registrars"
REGISTRAR_INDEXES = (CollectionIndexes(REGISTRARS, (IndexModel([("status", ASCENDING)]),)),)

# sections a registrar updates itself, and the permission each needs
REGISTRAR_SECTIONS = {"profile": Profile, "product_urls": ProductUrls, "epp_settings": EppSettings,
                      "email_categories": EmailCategories}


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
    ctx: ServiceContext, session: AsyncClientSession, new: NewRegistrar, status: RegistrarStatus, correlation_id: str
) -> list[EventEnvelope[Any]]:
    """Create the registrar and its administrator user; returns the events to publish."""
    doc = registrar_document(new, status, ctx)
    if await ctx.db[REGISTRARS].find_one({"_id": new.registrar_id}, {"_id": 1}, session=session) or (
        await ctx.db[USERS].find_one({"_id": new.registrar_id}, {"_id": 1}, session=session)
    ):
        raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: registrar [{new.registrar_id}]")
    try:
        admin = admin_document(new.registrar_id, new.admin_password.get_secret_value(), ctx.clock.now())
    except ValueError as exc:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"administrator password: {exc}") from exc
    await ctx.db[REGISTRARS].insert_one(doc, session=session)
    await ctx.db[USERS].insert_one(admin, session=session)

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


async def get_registrar(ctx: ServiceContext, registrar_id: str, session: AsyncClientSession | None = None) -> dict[str, Any]:
    doc = await ctx.db[REGISTRARS].find_one({"_id": registrar_id}, session=session)
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: registrar [{registrar_id}]")
    return doc


async def update_section(
    ctx: ServiceContext, session: AsyncClientSession, registrar_id: str, section: str, value: BaseModel,
    correlation_id: str, *, by_operator: bool = False,
) -> list[EventEnvelope[Any]]:
    doc = await get_registrar(ctx, registrar_id, session)
    data = value.model_dump(mode="json")
    if section == "product_urls":
        # a reseller shows a URL for the gTLDs it resells through an accredited registrar (onboarding.py)
        not_accredited = set(data["urls"]) - set(doc["products"]) - set(doc.get("resold_products", {}))
        if not_accredited:
            raise CommandRefused(
                Result.PARAMETER_VALUE_POLICY, f"not accredited for {sorted(not_accredited)}: no product URL there"
            )
    await ctx.db[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {section: data}}, session=session)
    return [
        new_event(
            RegistrarUpdated(section=section, changes=data, by_operator=by_operator),
            registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock,
        )
    ]


async def _seed_demo_contacts(ctx: ServiceContext, session: AsyncClientSession, registrar_id: str) -> list[EventEnvelope[Any]]:
    """The demo registrar's billing and tech contacts (needed before a first domain) and one registrant."""
    from services.registry.contacts import CONTACTS, ContactType, VerificationStatus, _payload
    from shared.events.contacts import ContactCreated

    base = {"street": ["Demostraat 1"], "city": "Leuven", "postal_code": "3001", "country": "BE",
            "phone": "+32.16000000", "language": "en", "registrar_id": registrar_id, "created_at": ctx.clock.now()}
    docs = [
        base | {"_id": f"{registrar_id}-bill"[:16], "type": ContactType.BILLING.value, "name": "Demo Billing",
                "email": "billing@demo-registrar.example"},
        base | {"_id": f"{registrar_id}-tech"[:16], "type": ContactType.TECH.value, "name": "Demo Tech",
                "email": "tech@demo-registrar.example"},
        base | {"_id": f"{registrar_id}-demo"[:16], "type": ContactType.REGISTRANT.value, "name": "Demo Registrant",
                "email": "registrant@demo-registrant.example", "verification": VerificationStatus.UNVERIFIED.value},
    ]
    await ctx.db[CONTACTS].insert_many(docs, session=session)
    return [new_event(ContactCreated(**_payload(d)), registrar_id=registrar_id, correlation_id=f"seed-{registrar_id}",
                      clock=ctx.clock) for d in docs]


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The account as its own users see it: never password hashes or security codes."""
    hidden = {"epp_password_hash", "security_code_hash", "_id"}
    return {"registrar_id": doc["_id"], **{k: v for k, v in doc.items() if k not in hidden}}


async def find_a_registrar(ctx: ServiceContext, product: str, language: str) -> list[dict[str, str]]:
    """The public 'find a registrar' list: active registrars with a URL for the product."""
    docs = await ctx.db[REGISTRARS].find(
        {"status": "ACTIVE", f"product_urls.urls.{product}": {"$exists": True}},
        {"name": 1, "product_urls": 1},
    ).sort("name", ASCENDING).to_list()
    listed = []
    for d in docs:
        urls = d["product_urls"]["urls"][product]
        url = urls.get(language) or urls.get("default")
        if url:
            listed.append({"registrar_id": d["_id"], "name": d["name"], "url": url})
    return listed


# -- the hitpoints block, enforced by the command layer ------------------------------------------------------

def _newer_block_change(registrar_id: str | None, at: datetime) -> dict[str, Any]:
    """Blocks and unblocks apply in the order hitpoints decided them, not the order they arrive (a requeued or
    another replica's delivery may overtake): a change older than the one applied changes nothing (one of the
    same instant applies: a frozen test clock, or hitpoints deciding twice in one tick)."""
    return {"_id": registrar_id, "$or": [{"block_changed_at": {"$exists": False}}, {"block_changed_at": {"$lte": at}}]}


async def on_registrar_blocked(ctx: ServiceContext, event: EventEnvelope[RegistrarBlocked], session: AsyncClientSession) -> None:
    await ctx.db[REGISTRARS].update_one(
        _newer_block_change(event.registrar_id, event.occurred_at),
        {"$set": {"blocked_until": event.payload.blocked_until, "blocked_since": event.payload.exceeded_at,
                  "block_changed_at": event.occurred_at}},
        session=session,
    )


async def on_registrar_unblocked(ctx: ServiceContext, event: EventEnvelope[RegistrarUnblocked], session: AsyncClientSession) -> None:
    await ctx.db[REGISTRARS].update_one(
        _newer_block_change(event.registrar_id, event.occurred_at),
        {"$unset": {"blocked_until": "", "blocked_since": ""}, "$set": {"block_changed_at": event.occurred_at}},
        session=session,
    )


# -- the demo registrar ---------------------------------------------------------------------------------------

async def seed_demo_registrar(ctx: ServiceContext, settings: RegistrySettings, registrar_id: str | None = None) -> None:
    """Create the demo registrar, active and funded, or reset its passwords to the configured ones."""
    registrar_id = registrar_id or settings.demo_registrar_id
    web, epp = settings.demo_web_password, settings.demo_epp_password
    address = Address(street=["Demostraat 1"], postal_code="3001", city="Leuven", country="BE")
    new = NewRegistrar(
        registrar_id=registrar_id,
        name=settings.demo_registrar_name,
        profile=Profile(organisation=[settings.demo_registrar_name], address=address, phone="+32.16000000",
                        email="info@demo-registrar.example", languages=[Language.EN, Language.NL],
                        automated_email="epp@demo-registrar.example"),
        official_address=OfficialAddress(organisation=[settings.demo_registrar_name], address=address),
        products=list(settings.tlds),
        admin_password=web,
        epp_password=epp,
    )

    async def work(session: AsyncClientSession) -> None:
        existing = await ctx.db[REGISTRARS].find_one({"_id": registrar_id}, {"epp_password_hash": 1}, session=session)
        if existing:
            # write only what differs: a restart must not contend for the registrar's document
            if not verify_password(existing["epp_password_hash"], epp.get_secret_value()):
                await ctx.db[REGISTRARS].update_one(
                    {"_id": registrar_id}, {"$set": {"epp_password_hash": hash_password(epp.get_secret_value())}},
                    session=session,
                )
            admin = await ctx.db[USERS].find_one({"_id": registrar_id}, {"password_hash": 1}, session=session)
            if admin is None or not verify_password(admin["password_hash"], web.get_secret_value()):
                await ctx.db[USERS].update_one(
                    {"_id": registrar_id}, {"$set": {"password_hash": hash_password(web.get_secret_value())}},
                    session=session,
                )
            return
        events = await insert_registrar(ctx, session, new, RegistrarStatus.ACTIVE, correlation_id=f"seed-{registrar_id}")
        epp_settings = {"poll": True, "ip_addresses": ["127.0.0.1", "::1"]}
        await ctx.db[REGISTRARS].update_one(
            {"_id": registrar_id},
            {"$set": {"balance_cents": settings.minimum_prepayment_cents, "epp_settings": epp_settings}},
            session=session,
        )
        # notifications learns of the poll switch from this event, as from any EPP settings change
        events.append(new_event(RegistrarUpdated(section="epp_settings", changes=epp_settings), registrar_id=registrar_id,
                                correlation_id=f"seed-{registrar_id}", clock=ctx.clock))
        events += await _seed_demo_contacts(ctx, session, registrar_id)
        await ctx.outbox.add(events, session)

    await in_transaction(ctx.client, work)
    ctx.committed()
    log.info("demo registrar %s is ready", registrar_id)
