"""The reporting service process: wiring only. The handlers (readmodel.py) translate events into the read
models; service.py generates the reports; jobs.py runs them on time."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting import __doc__ as DESCRIPTION
from services.reporting import api
from services.reporting.jobs import start_jobs, stop_jobs
from services.reporting.service import reporting_of
from services.reporting.settings import ReportingSettings
from services.reporting.store import REPORTING_INDEXES
from shared.audit import AUDIT_INDEXES
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE
from shared.messaging.consumer import Handlers
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    return reporting_of(ctx).read_model.handlers()


def build(settings: ReportingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="reporting",
            settings=settings or ReportingSettings(),
            description=DESCRIPTION or "reporting",
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "reporting"),
            handlers=handlers,
            indexes=(*REPORTING_INDEXES, *AUDIT_INDEXES),
            routers=(api.router,),
            on_startup=(start_jobs,),
            on_shutdown=(stop_jobs,),
            clock=clock or SystemClock(),
            verifies_sessions=True,
        )
    )
