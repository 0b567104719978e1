"""Registry staff through the real services, broker and database: named staff accounts with 2-step sign-in,
roles (operator, support), the audit trail of every staff action with who and before/after, and the operator
token's use audited as 'operator-token'."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from services.registry.users import totp
from services.registry.app import build as build_registry
from services.registry.http.staff import accounts_of
from services.registry.settings import RegistrySettings
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from services.verification.app import build as build_verification
from services.verification.settings import VerificationSettings
from shared.runtime import ServiceContext
from shared.staff import StaffRole
from services.registry.staff import NewStaff
from tests.integration.infra import OPERATOR, login, running

PASSWORD = "Staff-Password-2026"


@dataclass
class Platform:
    registry: httpx.AsyncClient
    verification: httpx.AsyncClient
    reporting: httpx.AsyncClient
    secrets: dict[str, str]

    @property
    def ctx(self) -> ServiceContext:
        return self.registry._transport.app.state.ctx  # type: ignore[attr-defined,no-any-return]

    async def sign_in(self, staff_id: str) -> dict[str, str]:
        code = totp.code_at(self.secrets[staff_id], self.ctx.clock.now())
        r = await self.registry.post("/api/staff/login", json={"staff_id": staff_id, "password": PASSWORD, "code": code})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
async def platform(namespace: str) -> AsyncIterator[Platform]:
    registry_settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                         operator_token=SecretStr("operator-dev-token"), epp_port=0)
    verification_settings = VerificationSettings(namespace=namespace, outbox_poll_seconds=0.05,
                                                 operator_token=SecretStr("operator-dev-token"))
    async with running(build_registry(registry_settings)) as registry, \
            running(build_verification(verification_settings)) as verification, \
            running(build_reporting(ReportingSettings(namespace=namespace, operator_token=SecretStr("operator-dev-token")))) \
            as reporting:
        p = Platform(registry, verification, reporting, {})
        for staff_id, role in (("alice", StaffRole.OPERATOR), ("bob", StaffRole.SUPPORT)):
            made = await accounts_of(p.ctx).create(
                NewStaff(staff_id=staff_id, name=staff_id.title(), role=role, password=SecretStr(PASSWORD)),
                by="test", now=p.ctx.clock.now())
            p.secrets[staff_id] = made.totp_secret
        yield p


async def test_staff_sign_in_needs_the_password_and_the_two_step_code(platform: Platform) -> None:
    registry = platform.registry
    no_code = await registry.post("/api/staff/login", json={"staff_id": "alice", "password": PASSWORD})
    assert no_code.status_code == 401 and no_code.json()["two_step_required"] is True  # the code step follows
    wrong = await registry.post("/api/staff/login", json={"staff_id": "alice", "password": PASSWORD, "code": "000000"})
    assert wrong.status_code == 401 and "2-step" in wrong.json()["message"]
    right_code = totp.code_at(platform.secrets["alice"], platform.ctx.clock.now())
    bad_password = await registry.post("/api/staff/login",
                                       json={"staff_id": "alice", "password": "Wrong-Password-1", "code": right_code})
    assert bad_password.status_code == 401
    alice = await platform.sign_in("alice")
    me = await registry.get("/api/staff/me", headers=alice)
    assert me.status_code == 200 and me.json()["role"] == "operator"

    # sign-ins are in the trail, the failed ones too
    trail = (await registry.get("/api/operator/audit", headers=alice, params={"actor": "alice"})).json()
    sign_ins = [e["outcome"] for e in trail if e["action"] == "POST /api/staff/login"]
    assert sign_ins.count("done") == 1 and sign_ins.count("refused") == 3  # the password step is one

    # signed out: the registry refuses the token at once
    assert (await registry.post("/api/staff/logout", headers=alice)).status_code == 204
    assert (await registry.get("/api/operator/staff", headers=alice)).status_code == 401


async def test_staff_sign_in_in_two_steps_is_audited_and_wrong_codes_pause(platform: Platform) -> None:
    registry = platform.registry

    async def password_step(staff_id: str, password: str = PASSWORD) -> httpx.Response:
        return await registry.post("/api/staff/login", json={"staff_id": staff_id, "password": password})

    # a wrong password, an unknown id and a disabled account read the same: no flag, no token
    alice = await platform.sign_in("alice")
    await registry.put("/api/operator/staff/bob/active", headers=alice, json={"active": False})
    refusals = [await password_step("alice", "Wrong-Password-1"), await password_step("nobody"), await password_step("bob")]
    assert {r.status_code for r in refusals} == {401} and not any(r.json().get("two_step_required") for r in refusals)
    assert len({r.json()["message"] for r in refusals}) == 1
    await registry.put("/api/operator/staff/bob/active", headers=alice, json={"active": True})

    first = await password_step("bob")
    assert first.status_code == 401 and first.json()["two_step_required"] is True
    pending = first.json()["pending"]
    # a staff pending token is no registrar sign-in, and no session
    assert (await registry.post("/api/login/code", json={"pending": pending, "code": "123456"})).json()["sign_in_again"]
    assert (await registry.get("/api/staff/me", headers={"Authorization": f"Bearer {pending}"})).status_code == 401
    wrong = await registry.post("/api/staff/login/code", json={"pending": pending, "code": "000000"})
    assert wrong.status_code == 401 and not wrong.json().get("sign_in_again")
    code = totp.code_at(platform.secrets["bob"], platform.ctx.clock.now())
    signed = await registry.post("/api/staff/login/code", json={"pending": pending, "code": code})
    assert signed.status_code == 200 and signed.json()["role"] == "support", signed.text
    bob = {"Authorization": f"Bearer {signed.json()['token']}"}
    assert (await registry.get("/api/staff/me", headers=bob)).json()["staff_id"] == "bob"
    used = await registry.post("/api/staff/login/code", json={"pending": pending, "code": code})
    assert used.status_code == 401 and used.json()["sign_in_again"] is True

    trail = (await registry.get("/api/operator/audit", headers=alice, params={"actor": "bob"})).json()
    steps = [(e["action"], e["outcome"]) for e in trail if e["action"].startswith("POST /api/staff/login")]
    assert ("POST /api/staff/login/code", "done") in steps and ("POST /api/staff/login/code", "refused") in steps
    assert steps.count(("POST /api/staff/login", "refused")) == 2  # the disabled account's and the password step

    # disabled between the steps: the pending sign-in is void
    pending = (await password_step("bob")).json()["pending"]
    await registry.put("/api/operator/staff/bob/active", headers=alice, json={"active": False})
    void = await registry.post("/api/staff/login/code", json={"pending": pending, "code": code})
    assert void.status_code == 401 and void.json()["sign_in_again"] is True
    await registry.put("/api/operator/staff/bob/active", headers=alice, json={"active": True})

    # wrong codes pause the address like wrong passwords
    pending = (await password_step("bob")).json()["pending"]
    for _ in range(5):
        assert (await registry.post("/api/staff/login/code", json={"pending": pending, "code": "000000"})).status_code == 401
    paused = await registry.post("/api/staff/login/code", json={
        "pending": pending, "code": totp.code_at(platform.secrets["bob"], platform.ctx.clock.now())})
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0
    assert (await password_step("bob")).status_code == 429


async def test_five_failed_sign_ins_pause_the_address(platform: Platform) -> None:
    for _ in range(5):
        r = await platform.registry.post("/api/staff/login",
                                         json={"staff_id": "bob", "password": "Wrong-Password-1", "code": "123456"})
        assert r.status_code == 401
    paused = await platform.registry.post("/api/staff/login", json={
        "staff_id": "bob", "password": PASSWORD, "code": totp.code_at(platform.secrets["bob"], platform.ctx.clock.now())})
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0


async def test_roles_decide_what_staff_may_do(platform: Platform) -> None:
    registry, verification = platform.registry, platform.verification
    alice, bob = await platform.sign_in("alice"), await platform.sign_in("bob")
    # support: not the operators' registrar actions, but the review queue and the hitpoints screen
    r = await registry.put("/api/operator/registrars/a100001/status", headers=bob, json={"status": "SUSPENDED"})
    assert r.status_code == 403 and "support" in r.json()["message"]
    assert (await verification.get("/api/support/verification/queue", headers=bob)).status_code == 200
    assert (await verification.put("/api/operator/verification/registrars/a100001", headers=bob,
                                   json={"verifies_itself": True})).status_code == 403
    assert (await registry.get("/api/operator/audit", headers=bob)).status_code == 403
    # a registrar's user is not staff, whatever its permissions
    admin = await login(registry)
    assert (await registry.get("/api/operator/registrars", headers=admin)).status_code == 401
    refused = await verification.get("/api/support/verification/queue", headers=admin)
    assert refused.status_code == 401 and "not registry staff" in refused.json()["detail"]
    # no token at all
    assert (await registry.get("/api/operator/registrars")).status_code == 401
    # operators do both
    assert (await registry.get("/api/operator/registrars", headers=alice)).status_code == 200
    assert (await verification.get("/api/support/verification/queue", headers=alice)).status_code == 200


async def test_every_staff_action_is_audited_with_who_and_before_and_after(platform: Platform) -> None:
    registry, verification = platform.registry, platform.verification
    alice = await platform.sign_in("alice")
    assert (await registry.put("/api/operator/registrars/a100001/lock-function", headers=alice,
                               json={"enabled": False})).status_code == 204
    entry = (await registry.get("/api/operator/audit", headers=alice, params={"subject": "a100001"})).json()[0]
    assert (entry["actor"], entry["role"], entry["via"], entry["outcome"]) == ("alice", "operator", "session", "done")
    assert entry["action"] == "PUT /api/operator/registrars/{registrar_id}/lock-function"
    assert entry["request"] == {"enabled": False}
    assert entry["before"]["lock_function"] is not False and entry["after"]["lock_function"] is False

    # a refused action is audited with its reason, and changes nothing
    r = await registry.put("/api/operator/registrars/nobody1/status", headers=alice, json={"status": "SUSPENDED"})
    assert r.status_code == 404
    refused = (await registry.get("/api/operator/audit", headers=alice, params={"subject": "nobody1"})).json()[0]
    assert (refused["outcome"], refused["status"], refused["before"], refused["after"]) == ("refused", 404, None, None)

    # the other services audit their staff actions in their own trail
    assert (await verification.put("/api/operator/verification/registrars/a100001", headers=alice,
                                   json={"verifies_itself": True})).status_code == 200
    v_entry = (await verification.get("/api/operator/audit", headers=alice)).json()[0]
    assert (v_entry["actor"], v_entry["service"], v_entry["request"]) == ("alice", "verification",
                                                                           {"verifies_itself": True})

    # staff accounts: created by an operator (the 2-step secret shown once, never in the trail)
    made = await registry.post("/api/operator/staff", headers=alice,
                               json={"staff_id": "carol", "name": "Carol", "role": "support", "password": PASSWORD})
    assert made.status_code == 201 and made.json()["otpauth_uri"].startswith("otpauth://totp/")
    created = (await registry.get("/api/operator/audit", headers=alice, params={"actor": "alice"})).json()[0]
    assert created["request"]["password"] == "***" and made.json()["totp_secret"] not in str(created)
    assert (await registry.put("/api/operator/staff/carol/active", headers=alice, json={"active": False})).status_code == 200
    disabled = (await registry.get("/api/operator/audit", headers=alice, params={"subject": "carol"})).json()[0]
    assert (disabled["before"]["active"], disabled["after"]["active"]) == (True, False)
    carol_code = totp.code_at(made.json()["totp_secret"], platform.ctx.clock.now())
    assert (await registry.post("/api/staff/login", json={"staff_id": "carol", "password": PASSWORD,
                                                          "code": carol_code})).status_code == 401


async def test_the_operator_token_is_for_automation_and_audited_as_such(platform: Platform) -> None:
    registry, verification = platform.registry, platform.verification
    assert (await registry.put("/api/operator/registrars/a100001/status", headers=OPERATOR,
                               json={"status": "SUSPENDED"})).status_code == 204
    entry = (await registry.get("/api/operator/audit", headers=OPERATOR, params={"subject": "a100001"})).json()[0]
    assert (entry["actor"], entry["via"]) == ("operator-token", "operator-token")
    assert (entry["before"]["status"], entry["after"]["status"]) == ("ACTIVE", "SUSPENDED")
    assert (await verification.put("/api/operator/verification/registrars/a100001", headers=OPERATOR,
                                   json={"verifies_itself": False})).status_code == 200
    assert (await verification.get("/api/operator/audit", headers=OPERATOR)).json()[0]["actor"] == "operator-token"
    # the reporting service's report runs too (a run of a quarter that does not parse is refused, and audited)
    reporting = platform.reporting
    assert (await reporting.post("/api/operator/reports/quarterly/not-a-quarter", headers=OPERATOR)).status_code == 422
    ran = (await reporting.get("/api/operator/audit", headers=OPERATOR)).json()[0]
    assert (ran["actor"], ran["service"], ran["outcome"]) == ("operator-token", "reporting", "refused")
    # reads are not actions: not in the trail
    await registry.get("/api/operator/registrars/a100001", headers=OPERATOR)
    actions = [e["action"] for e in (await registry.get("/api/operator/audit", headers=OPERATOR)).json()]
    assert not any(a.startswith("GET ") for a in actions)
