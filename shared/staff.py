"""Registry staff at the services' staff endpoints: who may call them, and the audit of what they did.

Staff (roles `operator` and `support`) sign in at the registry with their own named accounts
(services/registry/staff.py, 2-step always) and get a platform session token like a registrar's user, whose
claims carry the role as the permission `staff:<role>` and no registrar. Registrar users can never hold such
a permission (theirs come from the registry's Permission list), so the role cannot be granted by a registrar.

The operator bearer token (OPERATOR_TOKEN) stays for automation: it acts as an operator named
`operator-token`.

`staff_guard` is the FastAPI dependency of every staff endpoint. Around each changing request (not GET) it
writes an audit entry (shared/audit.py): who, when, the route and the request, the outcome, and the object
before and after as the service's `subject` function reads it. A "done" entry is written in the action's own
transaction where the service's unit of work runs one (the registry); a refusal or failure is written after it.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.audit import PENDING_AUDIT, AuditEntry, AuditTrail, PendingAudit, redacted, snapshot
from shared.auth import InvalidToken, SessionClaims
from shared.runtime import ServiceContext

ROLE_PREFIX = "staff:"
STAFF_REGISTRAR = ""  # staff tokens belong to no registrar
OPERATOR_TOKEN_ACTOR = "operator-token"
_bearer = HTTPBearer(auto_error=False)
_READS = ("GET", "HEAD", "OPTIONS")


class StaffRole(StrEnum):
    OPERATOR = "operator"
    SUPPORT = "support"


def role_permission(role: StaffRole) -> str:
    return f"{ROLE_PREFIX}{role.value}"


def staff_role(claims: SessionClaims) -> StaffRole | None:
    """The staff role a token carries; None for a registrar's user."""
    if claims.registrar_id != STAFF_REGISTRAR:
        return None
    for role in StaffRole:
        if claims.has(role_permission(role)):
            return role
    return None


class StaffActor(BaseModel):
    """Who calls a staff endpoint."""

    actor: str
    role: StaffRole
    via: Literal["session", "operator-token"]
    session_id: str | None = None


# reads the object a staff request acts on (from its path parameters), for the audit's before and after
Subject = Callable[[Request], Awaitable[dict[str, Any] | None]]
# the same, read through the transaction given (the service's unit of work writes the entry in it)
SubjectIn = Callable[[Request, Any], Awaitable[dict[str, Any] | None]]
# the registry's session store: False when the staff session was ended (logout, account disabled)
SessionAlive = Callable[[SessionClaims], Awaitable[bool]]
StaffDependency = Callable[..., AsyncIterator[StaffActor]]

ANY_STAFF = (StaffRole.OPERATOR, StaffRole.SUPPORT)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


async def _request_body(request: Request) -> Any:
    raw = await request.body()  # FastAPI has read it already: Starlette keeps it
    if not raw:
        return None
    try:
        return redacted(json.loads(raw))
    except ValueError:
        return {"content_type": request.headers.get("content-type"), "bytes": len(raw)}


def staff_guard(ctx: ServiceContext, roles: tuple[StaffRole, ...] = (StaffRole.OPERATOR,),
                subject: Subject | None = None, session_alive: SessionAlive | None = None,
                audit_reads: bool = False,
                refusal: Callable[[Exception], tuple[int, str] | None] | None = None,
                subject_in: SubjectIn | None = None) -> StaffDependency:
    """The dependency of a service's staff endpoints: 401 without a staff token or the operator token, 403
    for a staff member of another role; audits every changing request (and the reads too with `audit_reads`:
    a registrant's identity documents). Use it with `scope="function"` (see `Staff` below) so the entry is
    written before the response leaves. `refusal` tells the service's own refusals (an exception its handler
    answers with a 4xx: the registry's CommandRefused) from failures: (status, reason), or None for a failure.
    `subject_in` reads the object through a transaction: the unit of work's "done" entry (shared/audit.py)."""

    async def identify(credentials: HTTPAuthorizationCredentials | None) -> StaffActor:
        if credentials is None:
            raise _unauthorized("sign in as staff first (POST /api/staff/login at the registry)")
        expected = getattr(ctx.settings, "operator_token").get_secret_value()  # noqa: B009 (every service has it)
        if expected and secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
            return StaffActor(actor=OPERATOR_TOKEN_ACTOR, role=StaffRole.OPERATOR, via="operator-token")
        try:
            claims = await ctx.session_auth.verify(credentials.credentials)  # the registry's keys, not revoked
        except InvalidToken as exc:
            raise _unauthorized(str(exc)) from exc
        role = staff_role(claims)
        if role is None:  # a registrar's user: as before staff accounts, these endpoints ask to authenticate
            raise _unauthorized(f"[{claims.user_id}] is not registry staff: sign in as staff")
        if session_alive is not None and not await session_alive(claims):
            raise _unauthorized("the staff session has ended: sign in again")
        if role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"staff member [{claims.user_id}] is {role.value}; this needs "
                                + " or ".join(r.value for r in roles))
        return StaffActor(actor=claims.user_id, role=role, via="session", session_id=claims.session_id)

    async def guard(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> AsyncIterator[StaffActor]:
        who = await identify(credentials)
        request.state.staff = who
        if request.method in _READS and not audit_reads:
            yield who
            return
        before = await subject(request) if subject and request.method not in _READS else None
        entry = AuditEntry(
            at=ctx.clock.now(), service=ctx.settings.service_name, actor=who.actor, role=who.role.value, via=who.via,
            action=f"{request.method} {getattr(request.scope.get('route'), 'path', request.url.path)}",
            target=request.url.path, params=dict(request.path_params),
            subjects=[str(v) for v in request.path_params.values()],
            request=await _request_body(request), outcome="done", status=200, before=snapshot(before),
            correlation_id=getattr(request.state, "correlation_id", None),
            ip=request.client.host if request.client else None,
        )
        trail = AuditTrail(ctx.db)
        # the unit of work writes the "done" entry in the action's transaction where the service has one
        pending = PendingAudit(entry, after=(lambda reader: subject_in(request, reader)) if subject_in else None)
        PENDING_AUDIT.set(pending)
        try:
            yield who
        except Exception as exc:
            if isinstance(exc, HTTPException):
                entry.outcome, entry.status, entry.detail = "refused", exc.status_code, exc.detail
            elif isinstance(exc, RequestValidationError):
                entry.outcome, entry.status, entry.detail = "refused", 422, jsonable_encoder(exc.errors())
            elif (refused := refusal(exc) if refusal is not None else None) is not None:
                entry.outcome, (entry.status, entry.detail) = "refused", refused
            else:
                entry.outcome, entry.status, entry.detail = "failed", 500, type(exc).__name__
            if pending.written:  # a transaction of it committed before it failed: that "done" stays, this follows
                entry.entry_id = uuid.uuid4().hex
            await trail.record(entry)
            raise
        finally:
            PENDING_AUDIT.set(None)
        if pending.written:  # committed with the action's change
            return
        entry.after = snapshot(await subject(request)) if subject and request.method not in _READS else None
        await trail.record(entry)

    return guard


def Staff(guard: StaffDependency) -> Any:  # noqa: N802 (reads as a type in signatures)
    """`Annotated[StaffActor, Staff(guard)]`: the guard runs around the handler, before the response leaves."""
    return Depends(guard, scope="function")


def audit_router(ctx: ServiceContext, guard: StaffDependency | None = None, prefix: str = "/api/operator") -> APIRouter:
    """`GET /api/operator/audit`: this service's staff actions, newest first (operators only). `prefix`: what
    is left of /api/operator below the router it is included in."""
    api = APIRouter(prefix=prefix, tags=["operator"])
    Operator = Annotated[StaffActor, Staff(guard or staff_guard(ctx))]

    @api.get("/audit", response_model=list[AuditEntry])
    async def audit(_: Operator, actor: Annotated[str | None, Query(max_length=64)] = None,
                    subject: Annotated[str | None, Query(max_length=256, description="a registrar, domain, case ...")] = None,
                    before: Annotated[datetime | None, Query(description="entries older than this (paging)")] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntry]:
        """This service's staff actions, newest first: who did what to which subject, and how it ended."""
        return await AuditTrail(ctx.db).find(actor=actor, subject=subject, before=before, limit=limit)

    return api
