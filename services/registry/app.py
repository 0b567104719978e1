"""The registry service process: wiring only. The rules are the command pages under domains/, contacts/,
groups/, registrars/ and users/; http/ and epp/ translate; store.py owns the collections."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.domains.lifecycle import start_lifecycle, stop_lifecycle
from services.registry.domains.override import (
    on_verification_approved,
    on_verification_failed,
    on_verification_required,
    on_verification_undone,
)
from services.registry.domains.renewal import start_renewal, stop_renewal
from services.registry.epp.server import start_epp, stop_epp
from services.registry.http import (
    account,
    auth,
    contacts,
    domains,
    errors,
    groups,
    listing,
    locks,
    onboarding,
    openapi,
    operator,
    operator_domains,
    public,
    staff,
    transfers,
)
from services.registry.registrars.blocks import on_registrar_blocked, on_registrar_unblocked
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.settings import RegistrySettings
from services.registry.staff import seed_demo_staff
from services.registry.store import INDEXES, unit_of_work
from services.registry.uow.mongo import MongoUnitOfWork
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE
from shared.events.hitpoints import RegistrarBlocked, RegistrarUnblocked
from shared.events.verification import (
    VerificationApproved,
    VerificationFailed,
    VerificationRequired,
    VerificationUndone,
)
from shared.messaging.access import HISTORY_STREAM
from shared.messaging.consumer import Handlers
from shared.messaging.topology import declare_history_stream
from shared.mongo.transactions import abort_orphaned_transactions
from shared.auth import SigningKeys, StaticKeys
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    """Each event is applied in the consumer's transaction (which also records it as handled), through the unit
    of work's transaction view, so the events a handler publishes go out with it."""

    def joined(apply: Any) -> Any:
        async def handle(event: Any, session: AsyncClientSession) -> None:
            uow = unit_of_work(ctx)
            assert isinstance(uow, MongoUnitOfWork)

            async def work(tx: Any) -> None:
                await apply(ctx, event, tx)

            await uow.joining(session, work)

        return handle

    return {RegistrarBlocked: joined(on_registrar_blocked), RegistrarUnblocked: joined(on_registrar_unblocked),
            VerificationRequired: joined(on_verification_required),
            VerificationApproved: joined(on_verification_approved),
            VerificationFailed: joined(on_verification_failed), VerificationUndone: joined(on_verification_undone)}


def build(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    async def seed(ctx: ServiceContext) -> None:
        if settings.seed_demo_registrar:
            await seed_demo_registrar(ctx, settings)
            await seed_demo_staff(staff.accounts_of(ctx), ctx.clock.now())  # local runs only, like the registrar

    async def history(ctx: ServiceContext) -> None:  # the events exchange's stream for new subscribers
        if settings.event_history_days:
            await declare_history_stream(settings.amqp_url, settings.events_exchange_name,
                                         settings._ns(HISTORY_STREAM), settings.event_history_days)

    app = create_app(
        ServiceSpec(
            name="registry",
            settings=settings,
            description="The system of record: registrars, users, contacts, domains, groups, prepayment. "
            "Publishes every change and every failed command.",
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "registry"),
            handlers=handlers,
            indexes=INDEXES,
            routers=(auth.router, auth.keys_router, account.router, listing.router, contacts.router, groups.router,
                     domains.router, transfers.router, locks.router, operator.router, operator_domains.router,
                     onboarding.router, public.router, staff.router),
            # a registry killed mid-command left its transaction open, holding e.g. the registrar's balance
            on_connect=(lambda ctx: abort_orphaned_transactions(ctx.client),),
            on_startup=(seed, history, start_lifecycle, start_epp, start_renewal),
            on_shutdown=(stop_epp, stop_lifecycle, stop_renewal),
            clock=clock or SystemClock(),
            # the registry checks its own tokens (staff guard) with the keys it signs with, not a JWKS URL
            session_keys=StaticKeys(SigningKeys(settings.token_signing_keys).jwks()),
        )
    )
    errors.install(app, app.state.ctx, auth.registrar_of(app.state.ctx))
    openapi.install(app)
    return app
