"""The publication service process: wiring only. readmodel.py translates events into the read model,
pusher.py sends the zones' changes to Knot, api.py answers RDAP and the landing page, tcp.py WHOIS and DAS."""

from __future__ import annotations

from fastapi import FastAPI

from services.publication import __doc__ as DESCRIPTION
from services.publication import api
from services.publication.jobs import start_jobs, stop_jobs
from services.publication.service import publication_of
from services.publication.settings import PublicationSettings
from services.publication.store import PUBLICATION_INDEXES
from shared.clock import Clock, SystemClock
from shared.messaging.consumer import Handlers
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    return publication_of(ctx).read_model.handlers()


def build(settings: PublicationSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="publication",
            settings=settings or PublicationSettings(),
            description=DESCRIPTION or "publication",
            handlers=handlers,
            indexes=PUBLICATION_INDEXES,
            routers=(api.router,),
            on_startup=(start_jobs,),
            on_shutdown=(stop_jobs,),
            clock=clock or SystemClock(),
        )
    )
