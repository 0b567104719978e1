"""The verification service process: wiring only. The handlers hand events to the Verification application
(service.py); the rules are in scoring.py and transitions.py."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.verification import __doc__ as DESCRIPTION
from services.verification import api
from services.verification.jobs import start_jobs, stop_jobs
from services.verification.service import verification_of
from services.verification.settings import VerificationSettings
from services.verification.store import VERIFICATION_INDEXES
from shared.audit import AUDIT_INDEXES
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.events.domains import DomainCreated, DomainTransferred
from shared.messaging.consumer import Handlers
from shared.mongo.idempotency import BatchHandler
from shared.runtime import ServiceContext, ServiceSpec, create_app

log = logging.getLogger(__name__)


def handlers(ctx: ServiceContext) -> Handlers:
    v = verification_of(ctx)
    return {
        ContactCreated: v.on_contact_created,
        ContactUpdated: v.on_contact_updated,
        ContactDeleted: v.on_contact_deleted,
        # registrations come in bursts: a run of them is read and written in a few queries
        DomainCreated: BatchHandler(v.on_domains_created),
        DomainTransferred: v.on_domain_transferred,
    }


async def announce_eid(ctx: ServiceContext) -> None:
    """Say at start-up which eID provider runs: none is a choice, the simulator a local convenience only."""
    provider = ctx.settings.eid_provider  # type: ignore[attr-defined]
    if not provider:
        log.warning("EID_PROVIDER is empty: eID is unavailable, registrants prove their identity with "
                    "documents")
    elif provider == "simulator":
        log.warning("EID_PROVIDER=simulator: anyone holding a verification link can approve itself "
                    "(local runs and tests only)")
    else:
        log.info("eID provider: %s", provider)


def build(settings: VerificationSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="verification",
            settings=settings or VerificationSettings(),
            description=DESCRIPTION,
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "verification"),
            handlers=handlers,
            indexes=(*VERIFICATION_INDEXES, *AUDIT_INDEXES),
            routers=(api.router,),
            on_startup=(announce_eid, start_jobs),
            on_shutdown=(stop_jobs,),
            clock=clock or SystemClock(),
            verifies_sessions=True,
        )
    )
