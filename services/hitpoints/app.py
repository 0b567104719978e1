"""The hitpoints service process: wiring only. The handlers translate events into calls on the
Hitpoints application (service.py); the rules are in scoring.py, limits.py, blocks.py, portfolio.py."""

from __future__ import annotations

from fastapi import FastAPI

from services.hitpoints import __doc__ as DESCRIPTION
from services.hitpoints import api
from services.hitpoints.jobs import start_jobs, stop_jobs
from services.hitpoints.portfolio import PORTFOLIO_EVENTS
from services.hitpoints.service import hitpoints_of
from services.hitpoints.settings import HitpointsSettings
from services.hitpoints.store import HITPOINTS_INDEXES
from shared.audit import AUDIT_INDEXES
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE, CommandFailed
from shared.messaging.consumer import Handlers
from shared.mongo.idempotency import BatchHandler
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    hitpoints = hitpoints_of(ctx)
    # failures come in bursts: a run of them is applied with one counter write per registrar and day
    failed = BatchHandler(hitpoints.apply_failures)
    return {CommandFailed: failed} | {event: hitpoints.apply_domain_event for event in PORTFOLIO_EVENTS}


def build(settings: HitpointsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="hitpoints",
            settings=settings or HitpointsSettings(),
            description=DESCRIPTION,
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "hitpoints"),
            handlers=handlers,
            indexes=(*HITPOINTS_INDEXES, *AUDIT_INDEXES),
            routers=(api.router,),
            on_startup=(start_jobs,),
            on_shutdown=(stop_jobs,),
            clock=clock or SystemClock(),
            verifies_sessions=True,
        )
    )
