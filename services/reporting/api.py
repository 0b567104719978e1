"""Reporting's HTTP API. Portfolio sizes are what the public Top 100 shows; reports (issue 8) need a login."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.reporting.portfolio import Portfolios
from shared.runtime import ServiceContext


class PortfolioView(BaseModel):
    registrar_id: str
    domains: int


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["reports"])

    def portfolios() -> Portfolios:
        return ctx.extras["portfolios"]

    @api.get("/portfolios", response_model=list[PortfolioView])
    async def all_portfolios() -> list[PortfolioView]:
        return [PortfolioView(**p) for p in await portfolios().all()]

    @api.get("/portfolios/{registrar_id}", response_model=PortfolioView)
    async def portfolio(registrar_id: str) -> PortfolioView:
        return PortfolioView(registrar_id=registrar_id, domains=await portfolios().of(registrar_id))

    return api
