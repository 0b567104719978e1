"""The administrator's commands on its registrar's users, and a user's own password and 2-step set-up
(digest 5.1). Each runs through the command layer (a refusal is published as command.failed).

  list             the administrator only (2201): the users and their permissions
  create           administrator only (2201); user id 3-32 of a-z 0-9 . _ - (2005); password policy (2306);
                   every permission needs MY_REGISTRATIONS (2306); the id is free (2302).     Event: user.created
  set_permissions  administrator only, on its own users (2201 / 2303); not the administrator (2304).
                                                                                               Event: user.updated
  delete           administrator only, its own users, not itself (2201 / 2303 / 2304).         Event: user.deleted
  change_password  a user its own (knowing the current one, 2201), the administrator any of its users';
                   password policy (2306).                                                     Event: user.updated
  reset_two_step / temporary_key   administrator only, its own users, not itself (the registry resets the
                   administrator's); a temporary key works once within 90 seconds.            Event: user.updated
  enable_two_step  the calling user; returns the secret to load into an authenticator app.
  login_attempts   a user's own, or the administrator's for any of its users (2201 / 2303); newest first.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from services.registry.commands import Actor, execute
from services.registry.results import CommandRefused, Result
from services.registry.store import LOGIN_ATTEMPTS, USERS, unit_of_work
from services.registry.uow import Reader, Tx
from services.registry.users import totp
from services.registry.users.accounts import TEMPORARY_KEY_SECONDS, digest, end_sessions
from services.registry.users.model import USER_ID, Permission, User, check_password
from services.registry.users.passwords import hash_password, verify_password
from shared.events import CommandType
from shared.events.registrars import UserCreated, UserDeleted, UserUpdated
from shared.events.sessions import RevocationReason
from shared.runtime import ServiceContext

T = TypeVar("T")


async def _user(tx: Reader, user_id: str) -> User | None:
    doc = await tx[USERS].find_one({"_id": user_id})
    return User.from_document(doc) if doc else None


async def _acting(tx: Reader, actor: Actor) -> User:
    user = await _user(tx, actor.user_id)
    if user is None:
        raise CommandRefused(Result.AUTHORIZATION_ERROR, f"user [{actor.user_id}] no longer exists")
    return user


async def _own_user(tx: Reader, actor: Actor, user_id: str) -> User:
    """One of the administrator's users; another registrar's is reported as not existing."""
    if not (await _acting(tx, actor)).is_admin:
        raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user manages users")
    user = await _user(tx, user_id)
    if user is None or user.registrar_id != actor.registrar_id:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: user [{user_id}]")
    return user


async def list_users(ctx: ServiceContext, actor: Actor) -> list[User]:
    async def run(_: str) -> list[User]:
        if not actor.is_admin:  # the users and their permissions are the administrator's to see
            raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user lists the users")
        docs = await unit_of_work(ctx)[USERS].find({"registrar_id": actor.registrar_id}).sort("_id", 1).to_list()
        return [User.from_document(d) for d in docs]

    return await execute(ctx, actor, CommandType.INFO_USER, actor.registrar_id, run,
                         requires=Permission.MY_REGISTRATIONS)


async def _transaction(ctx: ServiceContext, actor: Actor, command: CommandType, user_id: str,
                       work: Callable[[Tx], Awaitable[T]]) -> T:
    """The shape of every changing user command: `work` in one transaction, through the command layer (its
    refusals published), with no permission beyond the checks `work` makes itself."""
    async def run(_: str) -> T:
        return await unit_of_work(ctx).run(work)

    return await execute(ctx, actor, command, user_id, run, requires=None)


async def _on_managed_user(ctx: ServiceContext, actor: Actor, command: CommandType, user_id: str,
                           not_the_administrator: str, change: Callable[[Tx], Awaitable[T]]) -> T:
    """An administrator's change to one of its users other than itself (2201 / 2303 / 2304 with the reason
    given), then `change` in the same transaction."""
    async def work(tx: Tx) -> T:
        if (await _own_user(tx, actor, user_id)).is_admin:
            raise CommandRefused(Result.STATUS_PROHIBITS, not_the_administrator)
        return await change(tx)

    return await _transaction(ctx, actor, command, user_id, work)


async def create_user(ctx: ServiceContext, actor: Actor, user_id: str, password: str,
                      permissions: set[Permission]) -> User:
    async def work(tx: Tx) -> User:
        if not (await _acting(tx, actor)).is_admin:
            raise CommandRefused(Result.AUTHORIZATION_ERROR, "only the administrator user creates users")
        if not USER_ID.match(user_id):
            raise CommandRefused(Result.PARAMETER_VALUE_SYNTAX,
                                 f"invalid user id [{user_id}]: 3-32 of a-z 0-9 . _ -")
        check_password(password)
        if Permission.MY_REGISTRATIONS not in permissions and permissions:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, "every permission needs MY_REGISTRATIONS access")
        if await tx[USERS].find_one({"_id": user_id}, {"_id": 1}):
            raise CommandRefused(Result.OBJECT_EXISTS, f"Object exists: user [{user_id}]")
        await tx[USERS].insert_one({"_id": user_id, "registrar_id": actor.registrar_id,
                                    "password_hash": hash_password(password),
                                    "permissions": sorted(permissions), "created_at": ctx.clock.now()})
        tx.publish([actor.event(UserCreated(user_id=user_id, permissions=sorted(permissions)), ctx)])
        return User(user_id, actor.registrar_id, frozenset(permissions), False)

    return await _transaction(ctx, actor, CommandType.NEW_USER, user_id, work)


async def set_permissions(ctx: ServiceContext, actor: Actor, user_id: str, permissions: set[Permission]) -> None:
    async def change(tx: Tx) -> None:
        await tx[USERS].update_one({"_id": user_id}, {"$set": {"permissions": sorted(permissions)}})
        tx.publish([actor.event(UserUpdated(user_id=user_id, change="permissions",
                                            permissions=sorted(permissions)), ctx)])

    await _on_managed_user(ctx, actor, CommandType.UPD_USER, user_id,
                           "the administrator user always has every permission", change)


async def delete_user(ctx: ServiceContext, actor: Actor, user_id: str) -> None:
    async def change(tx: Tx) -> None:
        await tx[USERS].delete_one({"_id": user_id})
        revoked = await end_sessions(tx, user_id, RevocationReason.USER_DELETED, ctx.clock.now(),
                                     ctx.settings.access_token_minutes)  # type: ignore[attr-defined]
        tx.publish([actor.event(UserDeleted(user_id=user_id), ctx), actor.event(revoked, ctx)])

    await _on_managed_user(ctx, actor, CommandType.DEL_USER, user_id, "the administrator user cannot be deleted",
                           change)


async def change_password(ctx: ServiceContext, actor: Actor, user_id: str, current: str | None, new: str) -> None:
    async def work(tx: Tx) -> None:
        if user_id == actor.user_id:
            doc = await tx[USERS].find_one({"_id": user_id})
            if doc is None or current is None or not verify_password(doc["password_hash"], current):
                raise CommandRefused(Result.AUTHORIZATION_ERROR, "the current password is wrong")
        else:
            await _own_user(tx, actor, user_id)
        check_password(new)
        await tx[USERS].update_one({"_id": user_id}, {"$set": {"password_hash": hash_password(new)}})
        # every session of the user ends (the caller's too)
        revoked = await end_sessions(tx, user_id, RevocationReason.PASSWORD_CHANGED, ctx.clock.now(),
                                     ctx.settings.access_token_minutes)  # type: ignore[attr-defined]
        tx.publish([actor.event(UserUpdated(user_id=user_id, change="password"), ctx), actor.event(revoked, ctx)])

    await _transaction(ctx, actor, CommandType.UPD_USER, user_id, work)


async def reset_two_step(ctx: ServiceContext, actor: Actor, user_id: str) -> None:
    async def change(tx: Tx) -> None:
        await tx[USERS].update_one({"_id": user_id}, {"$unset": {"totp_secret": ""}})
        tx.publish([actor.event(UserUpdated(user_id=user_id, change="two_step_reset"), ctx)])

    await _on_managed_user(ctx, actor, CommandType.UPD_USER, user_id,
                           "the administrator's 2-step is reset by the registry", change)


async def temporary_key(ctx: ServiceContext, actor: Actor, user_id: str) -> str:
    async def change(tx: Tx) -> str:
        key = f"{secrets.randbelow(1_000_000):06d}"
        expires_at = ctx.clock.now() + timedelta(seconds=TEMPORARY_KEY_SECONDS)
        await tx[USERS].update_one({"_id": user_id}, {"$set": {"temporary_key": {
            "digest": digest(key), "expires_at": expires_at}}})
        tx.publish([actor.event(UserUpdated(user_id=user_id, change="temporary_key"), ctx)])
        return key

    return await _on_managed_user(ctx, actor, CommandType.UPD_USER, user_id,
                                  "no temporary key for the administrator user", change)


async def login_attempts(ctx: ServiceContext, actor: Actor, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
    if user_id != actor.user_id and not actor.is_admin:
        raise CommandRefused(Result.AUTHORIZATION_ERROR, "a user sees only its own login attempts")
    uow = unit_of_work(ctx)
    target = await _user(uow, user_id)
    if target is None or target.registrar_id != actor.registrar_id:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: user [{user_id}]")
    docs = await uow[LOGIN_ATTEMPTS].find({"user_id": user_id}).sort("at", -1).limit(limit).to_list()
    return [{"ip": d["ip"], "at": d["at"], "success": d["success"]} for d in docs]


async def enable_two_step(ctx: ServiceContext, actor: Actor) -> str:
    """Returns the new TOTP secret (shown once, to load into the user's authenticator app)."""
    secret = totp.new_secret()
    await unit_of_work(ctx)[USERS].update_one({"_id": actor.user_id}, {"$set": {"totp_secret": secret}})
    return secret
