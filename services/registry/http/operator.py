"""What registry operators do to accounts over HTTP (services/registry/registrars/operator.py), and the jobs
they may run now."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.registry.domains.lifecycle import run_lifecycle
from services.registry.domains.renewal import run_renewal
from services.registry.http.auth import authentication
from services.registry.http.views import (
    LifecycleRun,
    PrepaymentBooked,
    RegistrarAccount,
    RegistrarCreated,
    RenewalRun,
)
from services.registry.registrars import operator
from services.registry.registrars.create import NewRegistrar
from services.registry.registrars.model import OfficialAddress, RegistrarStatus
from shared.runtime import ServiceContext
from shared.staff import Staff


class Prepayment(BaseModel):
    amount_cents: int = Field(gt=0)
    reference: str = Field(default_factory=lambda: f"pay-{uuid.uuid4().hex[:12]}", max_length=64)


class StatusChange(BaseModel):
    status: RegistrarStatus


class LockFunction(BaseModel):
    enabled: bool


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/operator", tags=["operator"])
    _, staff_or_token, _ = authentication(ctx)
    Op = Annotated[str, Staff(staff_or_token)]  # a named staff member (audited) or the operator token

    @api.post("/registrars", status_code=201, response_model=RegistrarCreated)
    async def create_registrar(body: NewRegistrar, request: Request, _: Op) -> dict[str, Any]:
        """An active registrar at once (operator's shortcut; the onboarding flow goes through applications)."""
        return await operator.create_registrar(ctx, body, request.state.correlation_id)

    @api.get("/registrars/{registrar_id}", response_model=RegistrarAccount, response_model_exclude_unset=True)
    async def show(registrar_id: str, _: Op) -> dict[str, Any]:
        return await operator.show_registrar(ctx, registrar_id)

    @api.put("/registrars/{registrar_id}/official-address", status_code=204)
    async def official_address(registrar_id: str, body: OfficialAddress, request: Request, _: Op) -> None:
        await operator.set_official_address(ctx, registrar_id, body, request.state.correlation_id)

    @api.post("/registrars/{registrar_id}/prepayments", status_code=201, response_model=PrepaymentBooked)
    async def prepayment(registrar_id: str, body: Prepayment, request: Request, _: Op) -> dict[str, Any]:
        balance = await operator.book_prepayment(ctx, registrar_id, body.amount_cents, body.reference,
                                                 request.state.correlation_id)
        return {"balance_cents": balance}

    @api.put("/registrars/{registrar_id}/status", status_code=204)
    async def status(registrar_id: str, body: StatusChange, request: Request, _: Op) -> None:
        await operator.set_status(ctx, registrar_id, body.status, request.state.correlation_id)

    @api.put("/registrars/{registrar_id}/lock-function", status_code=204)
    async def lock_function(registrar_id: str, body: LockFunction, request: Request, _: Op) -> None:
        """Withdraw (or give back) a registrar's right to set clientTransferProhibited; withdrawing lifts the
        registrar's existing client locks."""
        await operator.set_lock_function(ctx, registrar_id, body.enabled, request.state.correlation_id)

    @api.post("/lifecycle/run", response_model=LifecycleRun)
    async def lifecycle(_: Op) -> dict[str, int]:
        """Run the lifecycle job now (it also runs every LIFECYCLE_INTERVAL_SECONDS)."""
        return await run_lifecycle(ctx)

    @api.post("/renewal/run", response_model=RenewalRun)
    async def renewal(_: Op) -> dict[str, int]:
        """Run the month-end renewal now (it also runs every RENEWAL_INTERVAL_SECONDS); renews only what is due."""
        return await run_renewal(ctx)

    return api
