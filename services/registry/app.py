"""The registry service process."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.contacts import CONTACT_INDEXES
from services.registry.domains import DOMAIN_INDEXES
from services.registry.epp.server import start_epp, stop_epp
from services.registry.groups import GROUP_INDEXES
from services.registry.http import (
    account,
    auth,
    contacts,
    domains,
    errors,
    groups,
    locks,
    onboarding,
    openapi,
    operator,
    operator_domains,
    public,
    transfers,
)
from services.registry.lifecycle import LIFECYCLE_INDEXES, start_lifecycle, stop_lifecycle
from services.registry.locks import LOCK_INDEXES
from services.registry.money import LEDGER_INDEXES
from services.registry.onboarding import APPLICATION_INDEXES
from services.registry.override import (
    on_verification_approved,
    on_verification_failed,
    on_verification_required,
    on_verification_undone,
)
from services.registry.registrars import (
    REGISTRAR_INDEXES,
    on_registrar_blocked,
    on_registrar_unblocked,
    seed_demo_registrar,
)
from services.registry.renewal import RENEWAL_INDEXES, start_renewal, stop_renewal
from services.registry.settings import RegistrySettings
from services.registry.users import USER_INDEXES
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE
from shared.events.hitpoints import RegistrarBlocked, RegistrarUnblocked
from shared.events.verification import (
    VerificationApproved,
    VerificationFailed,
    VerificationRequired,
    VerificationUndone,
)
from shared.messaging.consumer import Handlers
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    async def blocked(event, session):
        await on_registrar_blocked(ctx, event, session)

    async def unblocked(event, session):
        await on_registrar_unblocked(ctx, event, session)

    async def required(event, session):
        await on_verification_required(ctx, event, session)

    async def approved(event, session):
        await on_verification_approved(ctx, event, session)

    async def failed(event, session):
        await on_verification_failed(ctx, event, session)

    async def undone(event, session):
        await on_verification_undone(ctx, event, session)

    return {RegistrarBlocked: blocked, RegistrarUnblocked: unblocked, VerificationRequired: required,
            VerificationApproved: approved, VerificationFailed: failed, VerificationUndone: undone}


def build(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    async def seed(ctx: ServiceContext) -> None:
        if settings.seed_demo_registrar:
            await seed_demo_registrar(ctx, settings)

    app = create_app(
        ServiceSpec(
            name="registry",
            settings=settings,
            description="The system of record: registrars, users, contacts, domains, groups, prepayment. "
            "Publishes every change and every failed command.",
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "registry"),
            handlers=handlers,
            indexes=(*REGISTRAR_INDEXES, *USER_INDEXES, *CONTACT_INDEXES, *GROUP_INDEXES, *DOMAIN_INDEXES, *LIFECYCLE_INDEXES, *LOCK_INDEXES, *LEDGER_INDEXES,
                     *APPLICATION_INDEXES, *RENEWAL_INDEXES),
            routers=(auth.router, account.router, contacts.router, groups.router, domains.router, transfers.router, locks.router,
                     operator.router, operator_domains.router, onboarding.router, public.router),
            on_startup=(seed, start_lifecycle, start_epp, start_renewal),
            on_shutdown=(stop_epp, stop_lifecycle, stop_renewal),
            clock=clock or SystemClock(),
        )
    )
    errors.install(app, app.state.ctx, auth.registrar_of(app.state.ctx))
    openapi.install(app)
    return app
