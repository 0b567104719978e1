"""Registry staff accounts: registry operators and support sign in under their own names.

A staff member has an id, a name, a role (operator or support: shared/staff.py), an Argon2id password and a
TOTP secret: the 2-step code is always required, there is no staff login without one (given with the
password, or in the code step that follows a right password: users/pending.py). Sign-in gives a
platform session token (shared/auth.py) whose claims carry the role; the registry keeps the session record so
that sign-out or disabling the account ends it here at once (the other services accept the token until it
expires: STAFF_SESSION_HOURS). Failed sign-ins pause an address for a staff id like users' logins do.

The first operator comes from the command line (no default password anywhere):

    python -m services.registry.staff create --id alice --name "Alice Peeters" --role operator

which asks for the password (or reads STAFF_PASSWORD) and prints the 2-step secret and its otpauth:// URI
once. `make run` seeds a demo operator for local runs only (DemoStaffSettings).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import os
import re
import secrets
import sys
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import ASCENDING, DESCENDING

from services.registry.store import STAFF, STAFF_ATTEMPTS, STAFF_SESSIONS
from services.registry.uow import Reader
from services.registry.users import totp
from services.registry.users.passwords import WeakPassword, check_policy, hash_password, verify_password
from services.registry.users.pending import Door, Pending, PendingSignIns
from shared.auth import SessionTokens, SigningKeys
from shared.clock import purge_after
from shared.staff import STAFF_REGISTRAR, StaffRole, role_permission

STAFF_SESSION_HOURS = 4
FAILURES_BEFORE_PAUSE = 5
PAUSE = timedelta(minutes=15)
ISSUER = "Registry staff"
_STAFF_ID = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
_ABSENT = hash_password(secrets.token_urlsafe(16))  # a wrong id costs an Argon2 verify like a wrong password


class StaffRefused(ValueError):
    """A staff command refused, with the reason in words; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400, retry_after_seconds: int | None = None,
                 staff_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_seconds = retry_after_seconds
        self.staff_id = staff_id  # whom a code step's refusal is about (the request names no staff id)


class StaffTwoStepRequired(StaffRefused):
    """A right password: the sign-in goes on with the code step and this pending token (users/pending.py)."""

    def __init__(self, pending: Pending) -> None:
        super().__init__("enter the 2-step code of your authenticator app "
                         "(POST /api/staff/login/code with the pending token)", 401)
        self.pending = pending


class StaffSignInExpired(StaffRefused):
    def __init__(self) -> None:
        super().__init__("the sign-in has expired or was completed: enter the staff id and password again", 401)


class NewStaff(BaseModel):
    staff_id: str = Field(pattern=_STAFF_ID.pattern, description="lower case, 3-32 characters")
    name: str = Field(min_length=1, max_length=100)
    role: StaffRole
    password: SecretStr


class StaffMember(BaseModel):
    staff_id: str
    name: str
    role: StaffRole
    active: bool
    created_at: datetime
    created_by: str


class TwoStepSecret(BaseModel):
    """Shown once: load it into an authenticator app (the URI is what a QR code holds)."""

    staff_id: str
    totp_secret: str
    otpauth_uri: str


class SignedIn(BaseModel):
    token: str
    staff_id: str
    name: str
    role: StaffRole
    expires_at: datetime


def otpauth_uri(staff_id: str, secret: str) -> str:
    return f"otpauth://totp/{quote(ISSUER)}:{quote(staff_id)}?secret={secret}&issuer={quote(ISSUER)}"


def view(doc: dict[str, Any]) -> StaffMember:
    return StaffMember(staff_id=doc["_id"], name=doc["name"], role=doc["role"], active=doc["active"],
                       created_at=doc["created_at"], created_by=doc["created_by"])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffAccounts:
    def __init__(self, db: Reader, tokens: SessionTokens) -> None:
        self.db = db
        self.staff = db[STAFF]
        self.sessions = db[STAFF_SESSIONS]
        self.attempts = db[STAFF_ATTEMPTS]
        self.tokens = tokens

    # -- accounts ---------------------------------------------------------------------------------------------

    async def create(self, new: NewStaff, by: str, now: datetime, totp_secret: str | None = None) -> TwoStepSecret:
        try:
            check_policy(new.password.get_secret_value(), min_length=12, max_length=128)
        except WeakPassword as exc:
            raise StaffRefused(f"{exc} (staff passwords: at least 12 characters)") from exc
        if await self.staff.find_one({"_id": new.staff_id}, {"_id": 1}):
            raise StaffRefused(f"staff member [{new.staff_id}] exists already", 409)
        secret = totp_secret or totp.new_secret()
        password_hash = await asyncio.to_thread(hash_password, new.password.get_secret_value())
        await self.staff.insert_one({"_id": new.staff_id, "name": new.name, "role": new.role.value,
                                     "password_hash": password_hash, "totp_secret": secret, "active": True,
                                     "created_at": now, "created_by": by})
        return TwoStepSecret(staff_id=new.staff_id, totp_secret=secret, otpauth_uri=otpauth_uri(new.staff_id, secret))

    async def get(self, staff_id: str) -> dict[str, Any]:
        doc = await self.staff.find_one({"_id": staff_id})
        if doc is None:
            raise StaffRefused(f"no staff member [{staff_id}]", 404)
        return doc

    async def list(self) -> list[StaffMember]:
        return [view(d) for d in await self.staff.find().sort("_id", ASCENDING).to_list()]

    async def set_active(self, staff_id: str, active: bool, by: str) -> StaffMember:
        if staff_id == by and not active:
            raise StaffRefused("you cannot disable your own account", 409)
        await self.get(staff_id)
        await self.staff.update_one({"_id": staff_id}, {"$set": {"active": active}})
        if not active:
            await self.sessions.delete_many({"staff_id": staff_id})  # its sessions end at once here
        return view(await self.get(staff_id))

    async def reset_two_step(self, staff_id: str) -> TwoStepSecret:
        """A new TOTP secret (a lost phone); the old one stops working and the member's sessions end."""
        await self.get(staff_id)
        secret = totp.new_secret()
        await self.staff.update_one({"_id": staff_id}, {"$set": {"totp_secret": secret}})
        await self.sessions.delete_many({"staff_id": staff_id})
        return TwoStepSecret(staff_id=staff_id, totp_secret=secret, otpauth_uri=otpauth_uri(staff_id, secret))

    # -- sign-in ------------------------------------------------------------------------------------------------

    async def sign_in(self, staff_id: str, password: str, code: str | None, ip: str, now: datetime) -> SignedIn:
        """Password and code at once; without a code, a right password of an active account raises
        StaffTwoStepRequired with the pending token of the code step (sign_in_with_code), recording nothing."""
        await self._refuse_if_paused(staff_id, ip, now)
        doc = await self.staff.find_one({"_id": staff_id})
        ok = await asyncio.to_thread(verify_password, doc["password_hash"] if doc else _ABSENT, password)
        ok = ok and doc is not None and doc["active"]
        if ok and doc is not None and not code:
            raise StaffTwoStepRequired(await PendingSignIns(self.db).start(Door.STAFF, doc, now))
        ok = ok and doc is not None and totp.verify(doc["totp_secret"], code or "", now)
        await self.attempts.insert_one({"staff_id": staff_id, "ip": ip, "at": now, "success": bool(ok)})
        if not ok or doc is None:
            raise StaffRefused("wrong staff id, password or 2-step code (or the account is disabled)", 401)
        return await self._open_session(doc, ip, now)

    async def sign_in_with_code(self, pending: str, code: str, ip: str, now: datetime) -> tuple[str, SignedIn]:
        """The code step: the pending token of a right password and the 2-step code. A wrong code is a failed
        sign-in (it counts toward the pause) and leaves the token; the right one uses it up. Returns the staff
        id with the session (the audit names who tried, also when refused: StaffRefused.staff_id)."""
        pendings = PendingSignIns(self.db)
        staff_id = await pendings.account_of(Door.STAFF, pending, now)
        if staff_id is None:
            raise StaffSignInExpired()
        try:
            await self._refuse_if_paused(staff_id, ip, now)
        except StaffRefused as exc:
            exc.staff_id = staff_id
            raise
        doc = await self.staff.find_one({"_id": staff_id})
        if doc is None or not await pendings.still_valid(Door.STAFF, pending, doc):
            raise StaffSignInExpired()
        ok = doc["active"] and totp.verify(doc["totp_secret"], code, now)
        if ok and not await pendings.use(Door.STAFF, pending, staff_id):
            raise StaffSignInExpired()
        await self.attempts.insert_one({"staff_id": staff_id, "ip": ip, "at": now, "success": bool(ok)})
        if not ok or doc is None:
            raise StaffRefused("wrong 2-step code (or the account is disabled)", 401, staff_id=staff_id)
        return staff_id, await self._open_session(doc, ip, now)

    async def _open_session(self, doc: dict[str, Any], ip: str, now: datetime) -> SignedIn:
        staff_id = doc["_id"]
        session_id, expires_at = secrets.token_urlsafe(16), now + timedelta(hours=STAFF_SESSION_HOURS)
        token = self.tokens.issue(user_id=staff_id, registrar_id=STAFF_REGISTRAR,
                                  permissions=[role_permission(StaffRole(doc["role"]))],
                                  session_id=session_id, expires_at=expires_at)
        await self.sessions.insert_one({"_id": _digest(token), "session_id": session_id, "staff_id": staff_id,
                                        "ip": ip, "expires_at": expires_at,
                                        "purge_at": purge_after(expires_at, timedelta(hours=STAFF_SESSION_HOURS))})
        return SignedIn(token=token, staff_id=staff_id, name=doc["name"], role=doc["role"], expires_at=expires_at)

    async def _refuse_if_paused(self, staff_id: str, ip: str, now: datetime) -> None:
        recent = await self.attempts.find({"staff_id": staff_id, "ip": ip, "at": {"$gt": now - PAUSE}}
                                          ).sort("at", DESCENDING).limit(FAILURES_BEFORE_PAUSE).to_list()
        if len(recent) == FAILURES_BEFORE_PAUSE and not any(a["success"] for a in recent):
            wait = recent[0]["at"] + PAUSE - now
            raise StaffRefused("too many failed sign-ins from this address: try again later", 429,
                               max(1, int(wait.total_seconds())))

    async def session_alive(self, session_id: str, staff_id: str, now: datetime) -> bool:
        return await self.sessions.find_one({"session_id": session_id, "staff_id": staff_id,
                                             "expires_at": {"$gt": now}}, {"_id": 1}) is not None

    async def sign_out(self, token: str) -> None:
        await self.sessions.delete_one({"_id": _digest(token)})


class DemoStaffSettings(BaseSettings):
    """The demo operator `make run` seeds beside the demo registrar (local runs only: its 2-step secret is
    printed at start-up so that a person can add it to an authenticator app)."""

    model_config = SettingsConfigDict(env_prefix="DEMO_STAFF_", extra="ignore")
    id: str = "op-demo"
    name: str = "Demo Operator"
    password: SecretStr = SecretStr("Demo-Staff-2026")
    totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def seed_demo_staff(accounts: StaffAccounts, now: datetime) -> None:
    demo = DemoStaffSettings()
    if await accounts.staff.find_one({"_id": demo.id}, {"_id": 1}):
        return
    await accounts.create(NewStaff(staff_id=demo.id, name=demo.name, role=StaffRole.OPERATOR, password=demo.password),
                          by="make-run-seed", now=now, totp_secret=demo.totp_secret)


# -- the command line: the first operator ----------------------------------------------------------------------

async def _create_from_cli(args: argparse.Namespace) -> TwoStepSecret:
    from services.registry.settings import RegistrySettings
    from services.registry.uow.mongo import MongoCollection
    from shared.clock import SystemClock
    from shared.mongo.client import connect

    settings = RegistrySettings()
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass(f"password for {args.id}: ")
    client = await connect(settings)
    try:
        db = client[settings.database_name]

        class Database:  # no transaction: one insert
            def __getitem__(self, name: str) -> MongoCollection:
                return MongoCollection(db[name], None)

        accounts = StaffAccounts(Database(), SessionTokens(SigningKeys(settings.token_signing_keys)))
        return await accounts.create(NewStaff(staff_id=args.id, name=args.name, role=StaffRole(args.role),
                                              password=SecretStr(password)), by="command-line", now=SystemClock().now())
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.staff", description="registry staff accounts")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a staff account (the first operator, typically)")
    create.add_argument("--id", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in StaffRole], required=True)
    args = parser.parse_args(argv)
    try:
        made = asyncio.run(_create_from_cli(args))
    except (StaffRefused, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"created {made.staff_id}\n2-step secret (shown once): {made.totp_secret}\n{made.otpauth_uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
