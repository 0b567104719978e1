"""What registry operators do to domains: server statuses (Domain Guard), clearing a client lock, lock
complaints (file, uphold or reject)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry.commands import commit
from services.registry.http.auth import authentication
from services.registry.http.errors import refusal
from services.registry.locks import (
    clear_status_by_registry,
    decide_complaint,
    file_complaint,
    set_server_status,
)
from services.registry.results import CommandRefused
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

    async def run(work) -> Any:
        result: list[Any] = []

        async def unit(session: AsyncClientSession) -> list:
            events, value = await work(session)
            result.append(value)
            return events

        try:
            await commit(ctx, unit)
        except CommandRefused as exc:
            raise refusal(exc) from exc
        ctx.committed()
        return result[-1]

    @api.put("/domains/{name}/statuses/{status}", status_code=204)
    async def set_status(name: str, status: str, request: Request, _: Op) -> None:
        """Set serverTransferProhibited, serverUpdateProhibited or serverDeleteProhibited."""

        async def work(session: AsyncClientSession) -> tuple[list, None]:
            return await set_server_status(ctx, session, name.lower(), status, request.state.correlation_id), None

        await run(work)

    @api.delete("/domains/{name}/statuses/{status}", status_code=204)
    async def clear_status(name: str, status: str, request: Request, _: Op) -> None:
        """Clear a server status, or the registrar's clientTransferProhibited (the registry's power)."""

        async def work(session: AsyncClientSession) -> tuple[list, None]:
            return await clear_status_by_registry(ctx, session, name.lower(), status, request.state.correlation_id,
                                                  reason="cleared_by_registry"), None

        await run(work)

    @api.post("/domains/{name}/lock-complaints", status_code=201)
    async def complain(name: str, body: Complaint, request: Request, _: Op) -> dict[str, Any]:
        """The registrar has 48 hours to show the registrant's request, or the registry lifts the lock."""

        async def work(session: AsyncClientSession) -> tuple[list, dict[str, Any]]:
            return await file_complaint(ctx, session, name.lower(), body.note, request.state.correlation_id)

        return await run(work)

    @api.post("/lock-complaints/{complaint_id}/decision", status_code=204)
    async def decide(complaint_id: str, body: Decision, request: Request, _: Op) -> None:
        async def work(session: AsyncClientSession) -> tuple[list, None]:
            return await decide_complaint(ctx, session, complaint_id, body.upheld, request.state.correlation_id), None

        await run(work)

    return api
