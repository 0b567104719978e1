"""Public, unauthenticated: the 'find a registrar' list per product and language."""

from typing import Any

from fastapi import APIRouter, Query

from services.registry.http.views import PublicRegistrar
from services.registry.registrars.profile import find_a_registrar
from shared.runtime import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/public", tags=["public"])

    @api.get("/registrars", response_model=list[PublicRegistrar])
    async def registrars(
        product: str = Query(pattern=r"^[a-z]{2,63}$"), language: str = Query("en", pattern="^(nl|fr|en)$")
    ) -> list[dict[str, Any]]:
        return await find_a_registrar(ctx, product, language)

    return api
