"""The sponsoring registrar's transfer lock and its answers to lock complaints, over HTTP
(services/registry/domains/locks.py)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.domains.locks import LockRequest, answer_complaint, complaints_of, lock_domain, unlock_domain
from services.registry.http.auth import authentication
from services.registry.http.views import ComplaintsOfRegistrar, ComplaintView
from shared.runtime import ServiceContext


class ComplaintAnswer(BaseModel):
    evidence: str = Field(min_length=3, max_length=2000, description="the registrant's request the lock rests on")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["locks"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    @api.put("/domains/{name}/transfer-lock", status_code=204)
    async def lock(name: str, body: LockRequest, who: Who) -> None:
        """Set clientTransferProhibited, at the registrant's request (keep that request: it may be asked for)."""
        await lock_domain(ctx, who, name, body)

    @api.delete("/domains/{name}/transfer-lock", status_code=204)
    async def unlock(name: str, who: Who) -> None:
        await unlock_domain(ctx, who, name)

    @api.post("/domains/{name}/lock-complaint/answer", response_model=ComplaintView, response_model_exclude_unset=True)
    async def answer(name: str, body: ComplaintAnswer, who: Who) -> dict[str, Any]:
        return await answer_complaint(ctx, who, name, body.evidence)

    @api.get("/registrar/lock-complaints", response_model=ComplaintsOfRegistrar, response_model_exclude_unset=True)
    async def complaints(who: Who) -> dict[str, Any]:
        """How many complaints about your locks the registry received, and each one."""
        return await complaints_of(ctx, who)

    return api
