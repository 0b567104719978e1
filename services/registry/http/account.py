"""The registrar's own account: profile sections, users, login attempts, balance and ledger."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from services.registry import money
from services.registry.commands import Actor, commit, execute
from services.registry.http.auth import authentication
from services.registry.http.errors import refusal
from services.registry.registrar_model import EmailCategories, EppSettings, ProductUrls, Profile
from services.registry.registrars import get_registrar, public_view, update_section
from services.registry.results import CommandRefused, Result
from services.registry.users import Permission, User
from shared.events import CommandType
from shared.events.registrars import UserCreated, UserDeleted, UserUpdated
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
    actor, _, users = authentication(ctx)
    Who = Annotated[Actor, Depends(actor)]

    async def run(who: Actor, command: CommandType, obj: str, work, requires: Permission | None = Permission.TRANSACTIONS) -> Any:
        try:
            return await execute(ctx, who, command, obj, work, requires=requires)
        except CommandRefused as exc:
            raise refusal(exc) from exc

    async def me(who: Actor) -> User:
        user = await users().get(who.user_id)
        assert user is not None
        return user

    @api.get("")
    async def account(who: Who) -> dict[str, Any]:
        async def read(_: str) -> dict[str, Any]:
            view = public_view(await get_registrar(ctx, who.registrar_id))
            if Permission.VIEW_FINANCIAL not in who.permissions and Permission.INVOICING_INFO not in who.permissions:
                view.pop("balance_cents", None)
                view.pop("finance", None)
            return view

        return await run(who, CommandType.INFO_REGISTRAR, who.registrar_id, read, requires=Permission.MY_REGISTRATIONS)

    def section_route(section: str, model: type[BaseModel], permission: Permission) -> None:
        async def put(value: model, who: Who) -> dict[str, Any]:  # type: ignore[valid-type]
            async def work(reference: str) -> dict[str, Any]:
                async def unit(session: AsyncClientSession) -> list:
                    return await update_section(ctx, session, who.registrar_id, section, value, who.correlation_id)

                await commit(ctx, unit)
                return {section: value.model_dump(mode="json"), "reference": reference}

            return await run(who, CommandType.UPD_REGISTRAR, f"{who.registrar_id}/{section}", work, requires=permission)

        api.put(f"/{section.replace('_', '-')}", name=f"update_{section}")(put)

    section_route("profile", Profile, Permission.TRANSACTIONS)
    section_route("product_urls", ProductUrls, Permission.TRANSACTIONS)
    section_route("epp_settings", EppSettings, Permission.UPDATE_EPP_SETTINGS)
    section_route("email_categories", EmailCategories, Permission.TRANSACTIONS)

    @api.get("/balance")
    async def balance(who: Who) -> dict[str, Any]:
        async def read(_: str) -> dict[str, Any]:
            return {"balance_cents": await money.balance(ctx, who.registrar_id),
                    "ledger": await money.ledger(ctx, who.registrar_id)}

        return await run(who, CommandType.INFO_REGISTRAR, who.registrar_id, read, requires=Permission.VIEW_FINANCIAL)

    # -- users ------------------------------------------------------------------------------------------------

    @api.get("/users", response_model=list[UserView])
    async def list_users(who: Who) -> list[UserView]:
        async def read(_: str) -> list[UserView]:
            if not who.is_admin:  # the users and their permissions are the administrator's to see
                raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user lists the users")
            return [UserView.of(u) for u in await users().list(who.registrar_id)]

        return await run(who, CommandType.INFO_USER, who.registrar_id, read, requires=Permission.MY_REGISTRATIONS)

    @api.post("/users", response_model=UserView, status_code=201)
    async def create_user(body: NewUser, who: Who) -> UserView:
        async def work(_: str) -> UserView:
            created: list[User] = []

            async def unit(session: AsyncClientSession) -> list:
                user = await users().create(await me(who), body.user_id, body.password, body.permissions,
                                            ctx.clock.now(), session)
                created.append(user)
                return [who.event(UserCreated(user_id=user.user_id, permissions=sorted(user.permissions)), ctx)]

            await commit(ctx, unit)
            return UserView.of(created[-1])

        return await run(who, CommandType.NEW_USER, body.user_id, work, requires=None)

    @api.put("/users/{user_id}/permissions", status_code=204)
    async def set_permissions(user_id: str, body: PermissionsUpdate, who: Who) -> None:
        async def work(_: str) -> None:
            async def unit(session: AsyncClientSession) -> list:
                await users().set_permissions(await me(who), user_id, body.permissions, session)
                return [who.event(UserUpdated(user_id=user_id, change="permissions",
                                              permissions=sorted(body.permissions)), ctx)]

            await commit(ctx, unit)

        await run(who, CommandType.UPD_USER, user_id, work, requires=None)

    @api.delete("/users/{user_id}", status_code=204)
    async def delete_user(user_id: str, who: Who) -> None:
        async def work(_: str) -> None:
            async def unit(session: AsyncClientSession) -> list:
                await users().delete(await me(who), user_id, session)
                return [who.event(UserDeleted(user_id=user_id), ctx)]

            await commit(ctx, unit)

        await run(who, CommandType.DEL_USER, user_id, work, requires=None)

    @api.put("/users/{user_id}/password", status_code=204)
    async def change_password(user_id: str, body: PasswordChange, who: Who) -> None:
        async def work(_: str) -> None:
            async def unit(session: AsyncClientSession) -> list:
                await users().change_password(await me(who), user_id, body.current_password, body.new_password, session)
                return [who.event(UserUpdated(user_id=user_id, change="password"), ctx)]

            await commit(ctx, unit)

        await run(who, CommandType.UPD_USER, user_id, work, requires=None)

    @api.put("/epp-password", status_code=204)
    async def change_epp_password(body: PasswordChange, who: Who) -> None:
        async def work(_: str) -> None:
            if not who.is_admin:
                raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user changes the EPP password")
            from services.registry.passwords import check_policy, hash_password

            try:
                check_policy(body.new_password, max_length=16)
            except ValueError as exc:
                raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"EPP password: {exc}") from exc

            async def unit(session: AsyncClientSession) -> list:
                await ctx.db["registrars"].update_one(
                    {"_id": who.registrar_id}, {"$set": {"epp_password_hash": hash_password(body.new_password)}},
                    session=session,
                )
                return [who.event(UserUpdated(user_id=who.user_id, change="epp_password"), ctx)]

            await commit(ctx, unit)

        await run(who, CommandType.UPD_REGISTRAR, f"{who.registrar_id}/epp-password", work, requires=None)

    @api.post("/users/{user_id}/two-step/reset", status_code=204)
    async def reset_two_step(user_id: str, who: Who) -> None:
        async def work(_: str) -> None:
            async def unit(session: AsyncClientSession) -> list:
                await users().reset_two_step(await me(who), user_id, session)
                return [who.event(UserUpdated(user_id=user_id, change="two_step_reset"), ctx)]

            await commit(ctx, unit)

        await run(who, CommandType.UPD_USER, user_id, work, requires=None)

    @api.post("/users/{user_id}/two-step/temporary-key")
    async def temporary_key(user_id: str, who: Who) -> dict[str, Any]:
        async def work(_: str) -> dict[str, Any]:
            keys: list[str] = []

            async def unit(session: AsyncClientSession) -> list:
                keys.append(await users().temporary_key(await me(who), user_id, ctx.clock.now(), session))
                return [who.event(UserUpdated(user_id=user_id, change="temporary_key"), ctx)]

            await commit(ctx, unit)
            return {"temporary_key": keys[-1], "valid_seconds": 90}

        return await run(who, CommandType.UPD_USER, user_id, work, requires=None)

    @api.post("/two-step")
    async def enable_two_step(who: Who) -> dict[str, str]:
        """Sets up 2-step verification for the calling user; the secret goes into an authenticator app."""
        return {"totp_secret": await users().enable_two_step(await me(who))}

    @api.get("/users/{user_id}/login-attempts")
    async def login_attempts(user_id: str, who: Who) -> list[dict[str, Any]]:
        if user_id != who.user_id and not who.is_admin:
            raise refusal(CommandRefused(Result.AUTHORIZATION_ERROR, "a user sees only its own login attempts"))
        target = await users().get(user_id)
        if target is None or target.registrar_id != who.registrar_id:
            raise refusal(CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: user [{user_id}]"))
        return await users().login_attempts(user_id)

    return api
