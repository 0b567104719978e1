"""What registry operators do: create registrars, change official addresses, book prepayments, suspend
or reactivate an account, withdraw a registrar's lock function."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry import money
from services.registry.commands import commit
from services.registry.http.auth import authentication
from services.registry.http.errors import refusal
from services.registry.lifecycle import run_lifecycle
from services.registry.locks import lift_all_client_locks
from services.registry.onboarding import require_status_change
from services.registry.registrar_model import OfficialAddress, RegistrarStatus
from services.registry.registrars import (
    NewRegistrar,
    get_registrar,
    insert_registrar,
    public_view,
    update_section,
)
from services.registry.renewal import run_renewal
from services.registry.results import CommandRefused
from shared.events import new_event
from shared.events.registrars import RegistrarUpdated
from shared.runtime import ServiceContext


class Prepayment(BaseModel):
    amount_cents: int = Field(gt=0)
    reference: str = Field(default_factory=lambda: f"pay-{uuid.uuid4().hex[:12]}", max_length=64)


class StatusChange(BaseModel):
    status: RegistrarStatus


class LockFunction(BaseModel):
    enabled: bool


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/operator", tags=["operator"])
    _, operator, _ = authentication(ctx)
    Op = Annotated[str, Depends(operator)]

    async def run(work) -> Any:
        try:
            result: list[Any] = []

            async def unit(session: AsyncClientSession) -> list:
                events, value = await work(session)
                result.append(value)
                return events

            await commit(ctx, unit)
            ctx.committed()
            return result[-1]
        except CommandRefused as exc:
            raise refusal(exc) from exc

    @api.post("/registrars", status_code=201)
    async def create_registrar(body: NewRegistrar, request: Request, _: Op) -> dict[str, Any]:
        """An active registrar at once (operator's shortcut; the onboarding flow goes through applications)."""

        async def work(session: AsyncClientSession) -> tuple[list, dict[str, Any]]:
            events = await insert_registrar(ctx, session, body, RegistrarStatus.ACTIVE, request.state.correlation_id)
            return events, {"registrar_id": body.registrar_id, "status": RegistrarStatus.ACTIVE}

        return await run(work)

    @api.get("/registrars/{registrar_id}")
    async def show(registrar_id: str, _: Op) -> dict[str, Any]:
        try:
            return public_view(await get_registrar(ctx, registrar_id))
        except CommandRefused as exc:
            raise refusal(exc) from exc

    @api.put("/registrars/{registrar_id}/official-address", status_code=204)
    async def official_address(registrar_id: str, body: OfficialAddress, request: Request, _: Op) -> None:
        async def work(session: AsyncClientSession) -> tuple[list, None]:
            return await update_section(ctx, session, registrar_id, "official_address", body,
                                        request.state.correlation_id, by_operator=True), None

        await run(work)

    @api.post("/registrars/{registrar_id}/prepayments", status_code=201)
    async def prepayment(registrar_id: str, body: Prepayment, request: Request, _: Op) -> dict[str, Any]:
        async def work(session: AsyncClientSession) -> tuple[list, dict[str, Any]]:
            events = await money.book_prepayment(ctx, session, registrar_id, body.amount_cents, body.reference,
                                                 request.state.correlation_id)
            return events, {"balance_cents": events[-1].payload.balance_cents}

        return await run(work)

    @api.put("/registrars/{registrar_id}/status", status_code=204)
    async def status(registrar_id: str, body: StatusChange, request: Request, _: Op) -> None:
        async def work(session: AsyncClientSession) -> tuple[list, None]:
            current = await get_registrar(ctx, registrar_id, session)
            require_status_change(registrar_id, current["status"], body.status)
            await ctx.db["registrars"].update_one({"_id": registrar_id}, {"$set": {"status": body.status.value}},
                                                  session=session)

            return [new_event(RegistrarUpdated(section="status", changes={"status": body.status.value}, by_operator=True),
                              registrar_id=registrar_id, correlation_id=request.state.correlation_id,
                              clock=ctx.clock)], None

        await run(work)

    @api.put("/registrars/{registrar_id}/lock-function", status_code=204)
    async def lock_function(registrar_id: str, body: LockFunction, request: Request, _: Op) -> None:
        """Withdraw (or give back) a registrar's right to set clientTransferProhibited; withdrawing lifts the
        registrar's existing client locks."""

        async def work(session: AsyncClientSession) -> tuple[list, None]:
            await get_registrar(ctx, registrar_id, session)
            await ctx.db["registrars"].update_one({"_id": registrar_id}, {"$set": {"lock_function": body.enabled}},
                                                  session=session)
            lifted = [] if body.enabled else await lift_all_client_locks(ctx, session, registrar_id,
                                                                         request.state.correlation_id)
            return [new_event(RegistrarUpdated(section="lock_function", changes={"enabled": body.enabled},
                                               by_operator=True),
                              registrar_id=registrar_id, correlation_id=request.state.correlation_id,
                              clock=ctx.clock), *lifted], None

        await run(work)

    @api.post("/lifecycle/run")
    async def lifecycle(_: Op) -> dict[str, int]:
        """Run the lifecycle job now (it also runs every LIFECYCLE_INTERVAL_SECONDS)."""
        return await run_lifecycle(ctx)

    @api.post("/renewal/run")
    async def renewal(_: Op) -> dict[str, int]:
        """Run the month-end renewal now (it also runs every RENEWAL_INTERVAL_SECONDS); renews only what is due."""
        return await run_renewal(ctx)

    return api
