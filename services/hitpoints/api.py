"""The hitpoints HTTP API: the registrar's hitpoints screen and self-unblock, and the operators' endpoints.

Registrar users authenticate with the session token the registry gave them at login (shared/auth.py);
they see only their own registrar. The screen needs MY_REGISTRATIONS, the unblock TRANSACTIONS (it
lets the account send commands again). Times are Brussels time, as the registrar's screen shows them.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from services.hitpoints.periods import day_of
from services.hitpoints.service import ChangedMeanwhile, Offence, Refused, Standing, hitpoints_of
from shared.auth import SessionClaims
from shared.staff import ANY_STAFF, Staff, StaffActor, audit_router, staff_guard
from shared.clock import brussels
from shared.events.hitpoints import UnblockedBy
from shared.runtime import ServiceContext

# the registry's permission names (services/registry/users/model.py Permission); tests/unit checks they exist
SCREEN_PERMISSION = "MY_REGISTRATIONS"
UNBLOCK_PERMISSION = "TRANSACTIONS"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class OffendingTransaction(BaseModel):
    date: datetime = Field(description="when the command was refused (Brussels time)")
    object: str = Field(description="domain name, contact alias, group name ...")
    command: str = Field(description="the command type, e.g. NEW_DOMAIN")
    reference: str = Field(description="the transaction's reference (EPP svTRID or web reference)")
    hitpoints: int
    result_code: int
    message: str
    channel: str
    user_id: str

    @classmethod
    def of(cls, o: Offence) -> "OffendingTransaction":
        return cls(date=brussels(o.at), object=o.object, command=o.command, reference=o.reference,
                   hitpoints=o.hitpoints, result_code=o.result_code, message=o.message, channel=o.channel,
                   user_id=o.user_id)


class HitpointsScreen(BaseModel):
    registrar_id: str
    hitpoints: int = Field(description="received since the counter was last reset (00:00 Brussels or an unblock)")
    limit: int = Field(description="the maximum: reaching it blocks the account")
    since: datetime = Field(description="the last reset")
    unblocks_used_this_month: int
    unblocks_allowed_per_month: int
    blocked: bool
    limit_exceeded_at: datetime | None = Field(description="when blocked: when the limit was reached")
    blocked_until: datetime | None = Field(description="when blocked: when the block ends")
    can_unblock: bool = Field(description="blocked and the month's self-unblock not yet used (the UNBLOCK button)")
    transactions: list[OffendingTransaction] = Field(description="the offending transactions since the last reset, "
                                                                 "newest first")

    @classmethod
    def of(cls, s: Standing) -> "HitpointsScreen":
        return cls(
            registrar_id=s.registrar_id, hitpoints=s.hitpoints, limit=s.limit, since=brussels(s.since),
            unblocks_used_this_month=s.unblocks_used, unblocks_allowed_per_month=s.unblocks_allowed,
            blocked=s.blocked, limit_exceeded_at=brussels(s.exceeded_at) if s.exceeded_at else None,
            blocked_until=brussels(s.blocked_until) if s.blocked_until else None, can_unblock=s.can_unblock,
            transactions=[OffendingTransaction.of(o) for o in s.transactions],
        )


class JobRun(BaseModel):
    day: str = Field(description="the Brussels day the run counts for, YYYY-MM-DD")
    limits_recalculated: int | None = Field(description="registrars whose limit was fixed; null: done today already")
    blocks_expired: int = Field(description="blocks that ended")


class RevokedName(BaseModel):
    note: str | None = Field(default=None, max_length=500)


def _refusal(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"message": getattr(exc, "message", str(exc))})


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["hitpoints"])
    auth = ctx.session_auth
    Viewer = Annotated[SessionClaims, Depends(auth.requires(SCREEN_PERMISSION))]
    Unblocker = Annotated[SessionClaims, Depends(auth.requires(UNBLOCK_PERMISSION))]
    async def account(request: Request) -> dict[str, Any] | None:  # the audit's before and after
        registrar_id = request.path_params.get("registrar_id")
        return await ctx.db["accounts"].find_one({"_id": registrar_id}) if registrar_id else None

    operator_guard = staff_guard(ctx, subject=account)
    Op = Annotated[StaffActor, Staff(operator_guard)]
    AnyStaff = Annotated[StaffActor, Staff(staff_guard(ctx, ANY_STAFF, subject=account))]

    async def screen(registrar_id: str) -> HitpointsScreen:
        return HitpointsScreen.of(await hitpoints_of(ctx).standing(registrar_id))

    async def unblock(registrar_id: str, by: UnblockedBy, request: Request) -> HitpointsScreen:
        try:
            await hitpoints_of(ctx).unblock(registrar_id, by, request.state.correlation_id)
        except (Refused, ChangedMeanwhile) as exc:
            raise _refusal(exc) from exc
        return await screen(registrar_id)

    @api.get("/api/hitpoints", response_model=HitpointsScreen)
    async def my_hitpoints(user: Viewer) -> HitpointsScreen:
        """The hitpoints screen of the user's registrar."""
        return await screen(user.registrar_id)

    @api.get("/api/hitpoints/transactions", response_model=list[OffendingTransaction])
    async def my_offences(user: Viewer, day: Annotated[str | None, Query(pattern=_DAY.pattern)] = None
                          ) -> list[OffendingTransaction]:
        """Every offending transaction of a Brussels day (default today), across resets."""
        offences = await hitpoints_of(ctx).offences_on(user.registrar_id, day or day_of(ctx.clock.now()))
        return [OffendingTransaction.of(o) for o in offences]

    @api.post("/api/hitpoints/unblock", response_model=HitpointsScreen)
    async def self_unblock(user: Unblocker, request: Request) -> HitpointsScreen:
        """Unblock the account now: once per calendar month; resets the hitpoints to zero."""
        return await unblock(user.registrar_id, UnblockedBy.SELF, request)

    # -- operators ----------------------------------------------------------------------------------------------
    Registrar = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")]

    @api.get("/api/operator/hitpoints/{registrar_id}", response_model=HitpointsScreen, tags=["operator"])
    async def registrar_hitpoints(registrar_id: Registrar, _: AnyStaff) -> HitpointsScreen:
        """Any registrar's hitpoints screen, as the registrar sees it."""
        return await screen(registrar_id)

    @api.post("/api/operator/hitpoints/{registrar_id}/unblock", response_model=HitpointsScreen, tags=["operator"])
    async def operator_unblock(registrar_id: Registrar, _: AnyStaff, request: Request) -> HitpointsScreen:
        """Unblock whatever the month's self-unblocks; resets the hitpoints to zero."""
        return await unblock(registrar_id, UnblockedBy.OPERATOR, request)

    @api.post("/api/operator/hitpoints/jobs/run", tags=["operator"], response_model=JobRun)
    async def run_jobs(_: Op) -> dict:
        """What the periodic job does: the nightly recalculation if due today, then end the blocks whose time is up."""
        return await hitpoints_of(ctx).run_due()

    @api.post("/api/operator/hitpoints/nightly/run", tags=["operator"], response_model=JobRun)
    async def run_nightly(_: Op) -> dict:
        """Run the 00:00 recalculation of the limits now, even if it ran today, and end due blocks."""
        return await hitpoints_of(ctx).run_due(force_nightly=True)

    @api.put("/api/operator/hitpoints/revoked-names/{name}", status_code=204, tags=["operator"])
    async def mark_revoked(name: str, body: RevokedName, _: Op) -> None:
        """The revoke procedure removed this name's name servers: transferring it scores no hitpoint."""
        await hitpoints_of(ctx).set_revoked(name, True, body.note)

    @api.delete("/api/operator/hitpoints/revoked-names/{name}", status_code=204, tags=["operator"])
    async def unmark_revoked(name: str, _: Op) -> None:
        """The name is no longer one whose transfer scores no hitpoint."""
        await hitpoints_of(ctx).set_revoked(name, False)

    api.include_router(audit_router(ctx, operator_guard))
    return api
