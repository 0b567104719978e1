"""Registrars as far as the platform foundation needs them: the demo registrar and web authentication."""

from __future__ import annotations

import logging

from pymongo.asynchronous.database import AsyncDatabase

from services.registry.passwords import check_policy, hash_password, verify_password
from services.registry.settings import RegistrySettings
from shared.clock import Clock
from shared.mongo.client import Document

log = logging.getLogger(__name__)
REGISTRARS = "registrars"


async def seed_demo_registrar(db: AsyncDatabase[Document], settings: RegistrySettings, clock: Clock) -> None:
    """Create the demo registrar, or reset its passwords to the configured ones (idempotent)."""
    web, epp = settings.demo_web_password.get_secret_value(), settings.demo_epp_password.get_secret_value()
    check_policy(web)
    check_policy(epp, max_length=16)
    await db[REGISTRARS].update_one(
        {"_id": settings.demo_registrar_id},
        {
            "$set": {"web_password_hash": hash_password(web), "epp_password_hash": hash_password(epp)},
            "$setOnInsert": {"name": settings.demo_registrar_name, "status": "ACTIVE", "created_at": clock.now()},
        },
        upsert=True,
    )
    log.info("demo registrar %s is ready", settings.demo_registrar_id)


# verified against when the registrar does not exist, so both failures take an Argon2 verify's time
_ABSENT = hash_password("absent-Registrar-0")


async def authenticate_web(db: AsyncDatabase[Document], registrar_id: str, password: str) -> bool:
    doc = await db[REGISTRARS].find_one({"_id": registrar_id, "status": "ACTIVE"}, {"web_password_hash": 1})
    if doc is None:
        verify_password(_ABSENT, password)
        return False
    return verify_password(doc["web_password_hash"], password)
