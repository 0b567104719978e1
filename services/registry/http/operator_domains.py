"""What registry operators do to domains over HTTP: server statuses (Domain Guard), clearing a client lock, lock
complaints (file, uphold or reject), on hold and out of service. The rules: services/registry/domains/locks.py and
special.py."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.registry.domains.locks import clear_status, decide_complaint, file_complaint, set_server_status
from services.registry.domains.special import HoldRequest, set_on_hold, set_out_of_service
from services.registry.http.auth import authentication
from services.registry.http.views import ComplaintView
from shared.runtime import ServiceContext
from shared.staff import Staff


class Complaint(BaseModel):
    note: str = Field(min_length=3, max_length=2000, description="who complained and why")


class Decision(BaseModel):
    upheld: bool = Field(description="true: the registrar showed the request, the lock stays; false: it is lifted")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/operator", tags=["operator"])
    _, operator, _ = authentication(ctx)
    Op = Annotated[str, Staff(operator)]

    @api.put("/domains/{name}/statuses/{status}", status_code=204)
    async def set_status(name: str, status: str, request: Request, _: Op) -> None:
        """Set serverTransferProhibited, serverUpdateProhibited or serverDeleteProhibited."""
        await set_server_status(ctx, name.lower(), status, request.state.correlation_id)

    @api.delete("/domains/{name}/statuses/{status}", status_code=204)
    async def clear(name: str, status: str, request: Request, _: Op) -> None:
        """Clear a server status, or the registrar's clientTransferProhibited (the registry's power)."""
        await clear_status(ctx, name.lower(), status, request.state.correlation_id)

    @api.post("/domains/{name}/lock-complaints", status_code=201, response_model=ComplaintView, response_model_exclude_unset=True)
    async def complain(name: str, body: Complaint, request: Request, _: Op) -> dict[str, Any]:
        """The registrar has 48 hours to show the registrant's request, or the registry lifts the lock."""
        return await file_complaint(ctx, name.lower(), body.note, request.state.correlation_id)

    @api.post("/lock-complaints/{complaint_id}/decision", status_code=204)
    async def decide(complaint_id: str, body: Decision, request: Request, _: Op) -> None:
        await decide_complaint(ctx, complaint_id, body.upheld, request.state.correlation_id)

    @api.put("/domains/{name}/on-hold", status_code=204)
    async def hold(name: str, body: HoldRequest, request: Request, _: Op) -> None:
        """An ADR or court case is pending: no transfer, still delegated (digest 4.1)."""
        await set_on_hold(ctx, name.lower(), True, body.reason, request.state.correlation_id)

    @api.delete("/domains/{name}/on-hold", status_code=204)
    async def release_hold(name: str, request: Request, _: Op) -> None:
        await set_on_hold(ctx, name.lower(), False, None, request.state.correlation_id)

    @api.put("/domains/{name}/out-of-service", status_code=204)
    async def out_of_service(name: str, request: Request, _: Op) -> None:
        """Its registrar's contract ended: it leaves the zone at the end of its expiry month (digest 4.1)."""
        await set_out_of_service(ctx, name.lower(), True, request.state.correlation_id)

    @api.delete("/domains/{name}/out-of-service", status_code=204)
    async def back_into_service(name: str, request: Request, _: Op) -> None:
        await set_out_of_service(ctx, name.lower(), False, request.state.correlation_id)

    return api
