"""Registry staff over HTTP: sign in and out (`/api/staff/...`), the operators' management of staff accounts
(`/api/operator/staff`), the audit trail (`/api/operator/audit`), and the lists the staff pages read
(registrars, lock complaints, one domain as the registry holds it)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from services.registry.audit_subjects import registry_subject, registry_subject_in
from services.registry.domains.info import staff_view
from services.registry.domains.locks import list_complaints
from services.registry.http.errors import http_refusal
from services.registry.http.login_steps import sign_in_again, two_step_required
from services.registry.http.views import ComplaintView, DomainRecord, RegistrarAccount
from services.registry.registrars.operator import list_registrars
from services.registry.staff import (
    NewStaff,
    SignedIn,
    StaffAccounts,
    StaffMember,
    StaffRefused,
    StaffSignInExpired,
    StaffTwoStepRequired,
    TwoStepSecret,
    view,
)
from services.registry.store import unit_of_work
from shared.audit import AuditEntry, AuditTrail
from shared.auth import SessionClaims
from shared.runtime import ServiceContext
from shared.staff import ANY_STAFF, Staff, StaffActor, StaffDependency, StaffRole, audit_router, staff_guard

_bearer = HTTPBearer(auto_error=False)


class StaffLogin(BaseModel):
    staff_id: str = Field(max_length=64)
    password: str = Field(max_length=128)
    code: str | None = Field(default=None, min_length=6, max_length=8, description=(
        "the 2-step code, always required for staff: here, or in the code step (POST /api/staff/login/code) "
        "after a right password"))


class StaffCodeStep(BaseModel):
    pending: str = Field(max_length=64, description="the pending token the password step answered")
    code: str = Field(min_length=6, max_length=8, description="the 2-step code of the authenticator app")


class Activity(BaseModel):
    active: bool


def accounts_of(ctx: ServiceContext) -> StaffAccounts:
    accounts = ctx.extras.get("staff_accounts")
    if accounts is None:
        from services.registry.http.auth import session_tokens  # the registry's signing keys (auth imports this module)

        accounts = ctx.extras["staff_accounts"] = StaffAccounts(unit_of_work(ctx), session_tokens(ctx))
    return accounts  # type: ignore[no-any-return]


def registry_staff_guard(ctx: ServiceContext, roles: tuple[StaffRole, ...] = (StaffRole.OPERATOR,)) -> StaffDependency:
    """The registry's staff guard: the shared one, with the registry's session store (a signed-out or disabled
    staff member is refused here at once) and the registry's objects for the audit's before and after."""

    async def alive(claims: SessionClaims) -> bool:
        return await accounts_of(ctx).session_alive(claims.session_id, claims.user_id, ctx.clock.now())

    return staff_guard(ctx, roles, subject=registry_subject(ctx), session_alive=alive, refusal=http_refusal,
                       subject_in=registry_subject_in(ctx))


def _refused(exc: StaffRefused) -> HTTPException:
    headers = {"Retry-After": str(exc.retry_after_seconds)} if exc.retry_after_seconds else None
    return HTTPException(exc.status, str(exc), headers=headers)


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["staff"])
    operator_guard = registry_staff_guard(ctx)
    Operator = Annotated[StaffActor, Staff(operator_guard)]
    AnyStaff = Annotated[StaffActor, Staff(registry_staff_guard(ctx, ANY_STAFF))]
    trail = lambda: AuditTrail(ctx.db)  # noqa: E731

    def entry(request: Request, who: str, action: str, outcome: str, status: int, detail: str | None) -> AuditEntry:
        return AuditEntry(at=ctx.clock.now(), service="registry", actor=who, role="-", via="session", action=action,
                          target=request.url.path, subjects=[who], outcome=outcome, status=status, detail=detail,
                          correlation_id=request.state.correlation_id,
                          ip=request.client.host if request.client else None)

    @api.post("/staff/login", response_model=SignedIn)
    async def sign_in(body: StaffLogin, request: Request) -> Any:
        """Staff sign in with id, password and the 2-step code (required: with the password, or in the code
        step); 429 with Retry-After after 5 failures from one address. Sign-ins are written to the audit
        trail, failed ones and password steps too."""
        ip, now = request.client.host if request.client else "unknown", ctx.clock.now()
        try:
            signed = await accounts_of(ctx).sign_in(body.staff_id, body.password, body.code, ip, now)
        except StaffTwoStepRequired as exc:
            await trail().record(entry(request, body.staff_id, "POST /api/staff/login", "refused", exc.status,
                                       "password right: the 2-step code is asked (code step)"))
            return two_step_required(str(exc), exc.pending, now)
        except StaffRefused as exc:
            await trail().record(entry(request, body.staff_id, "POST /api/staff/login", "refused", exc.status, str(exc)))
            raise _refused(exc) from exc
        return await signed_in(request, signed, "POST /api/staff/login")

    @api.post("/staff/login/code", response_model=SignedIn)
    async def sign_in_code(body: StaffCodeStep, request: Request) -> Any:
        """The code step of a staff sign-in in two steps: the pending token of the password step and the
        2-step code. A wrong code counts toward the pause and may be tried again while the token lives; the
        right one uses the token up."""
        action = "POST /api/staff/login/code"
        try:
            _, signed = await accounts_of(ctx).sign_in_with_code(
                body.pending, body.code, request.client.host if request.client else "unknown", ctx.clock.now())
        except StaffSignInExpired as exc:
            await trail().record(entry(request, "-", action, "refused", exc.status, str(exc)))
            return sign_in_again(str(exc))
        except StaffRefused as exc:
            await trail().record(entry(request, exc.staff_id or "-", action, "refused", exc.status, str(exc)))
            raise _refused(exc) from exc
        return await signed_in(request, signed, action)

    async def signed_in(request: Request, signed: SignedIn, action: str) -> SignedIn:
        done = entry(request, signed.staff_id, action, "done", 200, None)
        done.role = signed.role.value
        await trail().record(done)
        return signed

    @api.post("/staff/logout", status_code=204)
    async def sign_out(who: AnyStaff, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                             Depends(_bearer)]) -> None:
        if credentials is not None:
            await accounts_of(ctx).sign_out(credentials.credentials)

    @api.get("/staff/me", response_model=StaffMember)
    async def me(who: AnyStaff) -> StaffMember:
        if who.via == "operator-token":
            raise HTTPException(404, "the operator token is not a staff account")
        try:
            return view(await accounts_of(ctx).get(who.actor))
        except StaffRefused as exc:
            raise _refused(exc) from exc

    # -- operators manage staff ------------------------------------------------------------------------------

    @api.get("/operator/staff", response_model=list[StaffMember], tags=["operator"])
    async def staff_list(_: Operator) -> list[StaffMember]:
        return await accounts_of(ctx).list()

    @api.post("/operator/staff", response_model=TwoStepSecret, status_code=201, tags=["operator"])
    async def create_staff(body: NewStaff, who: Operator) -> TwoStepSecret:
        """A new staff account; the answer holds its 2-step secret, shown once."""
        try:
            return await accounts_of(ctx).create(body, who.actor, ctx.clock.now())
        except StaffRefused as exc:
            raise _refused(exc) from exc

    @api.put("/operator/staff/{staff_id}/active", response_model=StaffMember, tags=["operator"])
    async def set_active(staff_id: str, body: Activity, who: Operator) -> StaffMember:
        """Disable (or enable again) a staff account; disabling ends its sessions at the registry."""
        try:
            return await accounts_of(ctx).set_active(staff_id, body.active, who.actor)
        except StaffRefused as exc:
            raise _refused(exc) from exc

    @api.post("/operator/staff/{staff_id}/two-step", response_model=TwoStepSecret, tags=["operator"])
    async def reset_two_step(staff_id: str, _: Operator) -> TwoStepSecret:
        try:
            return await accounts_of(ctx).reset_two_step(staff_id)
        except StaffRefused as exc:
            raise _refused(exc) from exc

    # -- what the staff pages list -----------------------------------------------------------------------------

    @api.get("/operator/registrars", tags=["operator"], response_model=list[RegistrarAccount], response_model_exclude_unset=True)
    async def registrars(_: AnyStaff, status: Annotated[str | None, Query(max_length=20)] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        return await list_registrars(ctx, status, limit)

    @api.get("/operator/lock-complaints", tags=["operator"], response_model=list[ComplaintView], response_model_exclude_unset=True)
    async def complaints(_: AnyStaff, status: Annotated[str | None, Query(max_length=20)] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        return await list_complaints(ctx, status, limit)

    @api.get("/operator/domains/{name}", tags=["operator"], response_model=DomainRecord, response_model_exclude_unset=True)
    async def domain(name: str, _: AnyStaff) -> dict[str, Any]:
        doc = await staff_view(ctx, name)
        if doc is None:
            raise HTTPException(404, f"no domain [{name}]")
        return doc

    both = APIRouter()
    both.include_router(api)
    both.include_router(audit_router(ctx, operator_guard))
    return both
