"""The reporting service process."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter

from services.reporting import api
from services.reporting.portfolio import PORTFOLIO_INDEXES, Portfolios
from services.reporting.settings import ReportingSettings
from shared.events import DomainCreated
from shared.messaging.consumer import Handlers
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    counted = Counter(
        "reporting_domains_counted", "domain.created events applied to the portfolio read model", ["tld"],
        registry=ctx.metrics.registry,
    )
    portfolios = Portfolios(ctx.db, counted)
    ctx.extras["portfolios"] = portfolios
    return {DomainCreated: portfolios.on_domain_created}


def build(settings: ReportingSettings | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="reporting",
            settings=settings or ReportingSettings(),
            description="Read models built from events: portfolios, daily reports, top lists, quarterly report.",
            handlers=handlers,
            indexes=PORTFOLIO_INDEXES,
            routers=(api.router,),
        )
    )
