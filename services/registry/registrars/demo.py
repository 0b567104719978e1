"""The demo registrar `make run` seeds (README: the demo registrar): active, funded, with poll on, the local
addresses allowed over EPP, and the billing and tech contacts a first domain needs plus one registrant. On a
restart only its passwords are reset to the configured ones."""

from __future__ import annotations

import logging
from typing import Any

from services.registry.contacts.model import ContactType, VerificationStatus, contact_payload
from services.registry.registrars.create import NewRegistrar, insert_registrar
from services.registry.registrars.model import Address, Language, OfficialAddress, Profile, RegistrarStatus
from services.registry.settings import RegistrySettings
from services.registry.store import CONTACTS, REGISTRARS, USERS, unit_of_work
from services.registry.uow import Tx
from services.registry.users.passwords import hash_password, verify_password
from shared.events import EventEnvelope, new_event
from shared.events.contacts import ContactCreated
from shared.events.registrars import RegistrarUpdated
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


async def _seed_demo_contacts(ctx: ServiceContext, tx: Tx, registrar_id: str) -> list[EventEnvelope[Any]]:
    """The demo registrar's billing and tech contacts (needed before a first domain) and one registrant."""
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
    await tx[CONTACTS].insert_many([dict(d) for d in docs])
    return [new_event(ContactCreated(**contact_payload(d)), registrar_id=registrar_id, correlation_id=f"seed-{registrar_id}",
                      clock=ctx.clock) for d in docs]


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

    async def work(tx: Tx) -> None:
        existing = await tx[REGISTRARS].find_one({"_id": registrar_id}, {"epp_password_hash": 1})
        if existing:
            # write only what differs: a restart must not contend for the registrar's document
            if not verify_password(existing["epp_password_hash"], epp.get_secret_value()):
                await tx[REGISTRARS].update_one(
                    {"_id": registrar_id}, {"$set": {"epp_password_hash": hash_password(epp.get_secret_value())}}
                )
            admin = await tx[USERS].find_one({"_id": registrar_id}, {"password_hash": 1})
            if admin is None or not verify_password(admin["password_hash"], web.get_secret_value()):
                await tx[USERS].update_one(
                    {"_id": registrar_id}, {"$set": {"password_hash": hash_password(web.get_secret_value())}}
                )
            return
        events = await insert_registrar(ctx, tx, new, RegistrarStatus.ACTIVE, correlation_id=f"seed-{registrar_id}")
        epp_settings = {"poll": True, "ip_addresses": ["127.0.0.1", "::1"]}
        await tx[REGISTRARS].update_one(
            {"_id": registrar_id},
            {"$set": {"balance_cents": settings.minimum_prepayment_cents, "epp_settings": epp_settings}}
        )
        # notifications learns of the poll switch from this event, as from any EPP settings change
        events.append(new_event(RegistrarUpdated(section="epp_settings", changes=epp_settings), registrar_id=registrar_id,
                                correlation_id=f"seed-{registrar_id}", clock=ctx.clock))
        events += await _seed_demo_contacts(ctx, tx, registrar_id)
        tx.publish(events)

    await unit_of_work(ctx).run(work)
    log.info("demo registrar %s is ready", registrar_id)
