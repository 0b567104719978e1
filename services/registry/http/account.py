"""The registrar's own account over HTTP: profile sections, users, login attempts, balance and ledger, the EPP
password. The rules: services/registry/registrars/profile.py, registrars/epp_access.py, users/manage.py."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.registry.commands import Actor
from services.registry.http.auth import authentication
from services.registry.registrars.epp_access import change_epp_password
from services.registry.registrars.profile import SECTIONS, balance_and_ledger, info_registrar, update_own_section
from services.registry.users import manage
from services.registry.users.model import Permission, User
from services.registry.http.views import (
    SECTION_SAVED,
    BalanceAndLedger,
    LoginAttempt,
    RegistrarAccount,
    TemporaryKey,
    TwoStepSetUp,
)
from shared.runtime import ServiceContext


class NewUser(BaseModel):
    user_id: str
    password: str = Field(max_length=128)
    permissions: set[Permission]


class PermissionsUpdate(BaseModel):
    permissions: set[Permission]


class PasswordChange(BaseModel):
    current_password: str | None = Field(default=None, max_length=128)
    new_password: str = Field(max_length=128)


class UserView(BaseModel):
    user_id: str
    permissions: list[Permission]
    two_step: bool
    administrator: bool

    @classmethod
    def of(cls, u: User) -> "UserView":
        return cls(user_id=u.user_id, permissions=sorted(u.permissions), two_step=u.two_step, administrator=u.is_admin)


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api/registrar", tags=["registrar account"])
    actor, _, _ = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    @api.get("", response_model=RegistrarAccount, response_model_exclude_unset=True)
    async def account(who: Who) -> dict[str, Any]:
        return await info_registrar(ctx, who)

    def section_route(section: str, model: type[BaseModel]) -> None:
        async def put(value: model, who: Who) -> dict[str, Any]:  # type: ignore[valid-type]
            return await update_own_section(ctx, who, section, value)

        api.put(f"/{section.replace('_', '-')}", name=f"update_{section}", response_model=SECTION_SAVED[section])(put)

    for section, (model, _) in SECTIONS.items():
        section_route(section, model)

    @api.get("/balance", response_model=BalanceAndLedger, response_model_exclude_unset=True)
    async def balance(who: Who) -> dict[str, Any]:
        return await balance_and_ledger(ctx, who)

    # -- users ------------------------------------------------------------------------------------------------

    @api.get("/users", response_model=list[UserView])
    async def list_users(who: Who) -> list[UserView]:
        return [UserView.of(u) for u in await manage.list_users(ctx, who)]

    @api.post("/users", response_model=UserView, status_code=201)
    async def create_user(body: NewUser, who: Who) -> UserView:
        return UserView.of(await manage.create_user(ctx, who, body.user_id, body.password, body.permissions))

    @api.put("/users/{user_id}/permissions", status_code=204)
    async def set_permissions(user_id: str, body: PermissionsUpdate, who: Who) -> None:
        await manage.set_permissions(ctx, who, user_id, body.permissions)

    @api.delete("/users/{user_id}", status_code=204)
    async def delete_user(user_id: str, who: Who) -> None:
        await manage.delete_user(ctx, who, user_id)

    @api.put("/users/{user_id}/password", status_code=204)
    async def change_password(user_id: str, body: PasswordChange, who: Who) -> None:
        await manage.change_password(ctx, who, user_id, body.current_password, body.new_password)

    @api.put("/epp-password", status_code=204)
    async def epp_password(body: PasswordChange, who: Who) -> None:
        await change_epp_password(ctx, who, body.new_password)

    @api.post("/users/{user_id}/two-step/reset", status_code=204)
    async def reset_two_step(user_id: str, who: Who) -> None:
        await manage.reset_two_step(ctx, who, user_id)

    @api.post("/users/{user_id}/two-step/temporary-key", response_model=TemporaryKey)
    async def temporary_key(user_id: str, who: Who) -> dict[str, Any]:
        return {"temporary_key": await manage.temporary_key(ctx, who, user_id), "valid_seconds": 90}

    @api.post("/two-step", response_model=TwoStepSetUp)
    async def enable_two_step(who: Who) -> dict[str, str]:
        """Sets up 2-step verification for the calling user; the secret goes into an authenticator app."""
        return {"totp_secret": await manage.enable_two_step(ctx, who)}

    @api.get("/users/{user_id}/login-attempts", response_model=list[LoginAttempt])
    async def login_attempts(user_id: str, who: Who) -> list[dict[str, Any]]:
        return await manage.login_attempts(ctx, who, user_id)

    return api
