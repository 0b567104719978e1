"""Becoming a registrar over HTTP: operators record each step of an application under
/api/operator/applications; the registrar activates its account itself at /api/activation (no login:
its registrar id and the security code of its letter are the proof). The rules are in registrars/onboarding.py."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.registry.http.auth import authentication
from services.registry.http.views import ApplicationView
from services.registry.registrars import onboarding
from services.registry.registrars.onboarding import (
    Activation,
    Application,
    ApplicationStatus,
    ContractSignature,
    PrepaymentPaid,
    StepDone,
)
from shared.runtime import ServiceContext
from shared.staff import Staff


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["becoming a registrar"])
    _, operator, _ = authentication(ctx)
    Op = Annotated[str, Staff(operator)]
    step: dict[str, Any] = {"response_model": StepDone, "response_model_exclude_none": True}

    @api.post("/operator/applications", status_code=201, **step)
    async def apply(body: Application, request: Request, _: Op) -> StepDone:
        """Record an application (status APPLIED): the organisation, its products and its prepayment."""
        return await onboarding.record_application(ctx, body, request.state.correlation_id)

    @api.get("/operator/applications", response_model=list[ApplicationView], response_model_exclude_unset=True)
    async def applications(_: Op, status: Annotated[ApplicationStatus | None, Query()] = None) -> list[dict[str, Any]]:
        return await onboarding.list_applications(ctx, status)

    @api.get("/operator/applications/{application_id}", response_model=ApplicationView, response_model_exclude_unset=True)
    async def application(application_id: str, _: Op) -> dict[str, Any]:
        return await onboarding.get_application(ctx, application_id)

    @api.post("/operator/applications/{application_id}/contract", **step)
    async def contract(application_id: str, request: Request, _: Op,
                       body: ContractSignature | None = None) -> StepDone:
        """The contract is signed: creates the account (PENDING_ACTIVATION) and its administrator user, and
        returns the 12-digit security code for the letter, this once."""
        return await onboarding.sign_contract(ctx, application_id, body or ContractSignature(),
                                              request.state.correlation_id)

    @api.post("/operator/applications/{application_id}/prepayment", **step)
    async def prepayment(application_id: str, body: PrepaymentPaid, request: Request, _: Op) -> StepDone:
        """The prepayment arrived (at least the amount applied for): booked on the account's balance."""
        return await onboarding.record_prepayment(ctx, application_id, body, request.state.correlation_id)

    @api.post("/operator/applications/{application_id}/security-code", **step)
    async def security_code(application_id: str, request: Request, _: Op) -> StepDone:
        """A new security code (returned this once); it replaces the old one and lifts an activation lock."""
        return await onboarding.reissue_security_code(ctx, application_id, request.state.correlation_id)

    @api.post("/activation", **step)
    async def activate(body: Activation, request: Request) -> StepDone:
        """The registrar activates its account and chooses its web and EPP passwords; possible once the
        contract is signed and the prepayment received. Five wrong codes lock it until a new code."""
        return await onboarding.activate(ctx, body, request.state.correlation_id)

    return api
