"""The registry service process."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import api
from services.registry.domains import DOMAIN_INDEXES
from services.registry.registrars import seed_demo_registrar
from services.registry.settings import RegistrySettings
from shared.events import CommandFailed, DomainCreated
from shared.runtime import ServiceContext, ServiceSpec, create_app


def build(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    async def seed(ctx: ServiceContext) -> None:
        if settings.seed_demo_registrar:
            await seed_demo_registrar(ctx.db, settings, ctx.clock)

    return create_app(
        ServiceSpec(
            name="registry",
            settings=settings,
            description="The system of record: registrars, contacts, domains. Publishes every change and every "
            "failed command.",
            publishes=(DomainCreated, CommandFailed),
            indexes=DOMAIN_INDEXES,
            routers=(api.router,),
            on_startup=(seed,),
        )
    )
