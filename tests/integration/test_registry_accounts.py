"""Registrar accounts through the registry's HTTP API, the real broker and the real database: users and
permissions, 2-step login, the hitpoints block, prepayment and watermarks, validation, operators."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from services.registry.users import totp
from services.registry.app import build
from services.registry.http.auth import session_tokens
from services.registry.settings import RegistrySettings
from shared.clock import ManualClock, SystemClock
from shared.events import new_event
from shared.events.hitpoints import RegistrarBlocked, RegistrarUnblocked, UnblockedBy
from shared.runtime import ServiceContext
from tests.integration.infra import OPERATOR, EventTap, eventually, login, running

PROFILE: dict[str, Any] = {
    "organisation": ["Second Registrar NV"],
    "address": {"street": ["Kerkstraat 2"], "postal_code": "9000", "city": "Gent", "country": "BE"},
    "phone": "+32.92000000",
    "email": "info@second.example",
    "languages": ["nl", "en"],
    "automated_email": "epp@second.example",
}


@pytest.fixture
async def registry(namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05,
                                operator_token="operator-dev-token")
    async with running(build(settings)) as client:
        yield client


def ctx_of(client: httpx.AsyncClient) -> ServiceContext:
    return client._transport.app.state.ctx  # type: ignore[attr-defined]


async def test_the_administrator_manages_users_and_a_read_only_user_cannot_transact(
    registry: httpx.AsyncClient, namespace: str
) -> None:
    admin = await login(registry)
    async with EventTap(namespace) as tap:
        r = await registry.post("/api/registrar/users", headers=admin,
                                json={"user_id": "reader", "password": "Reader-123", "permissions": ["MY_REGISTRATIONS"]})
        assert r.status_code == 201, r.text
        assert (await tap.wait_for("user.created"))[0]["payload"]["user_id"] == "reader"

        reader = await login(registry, "reader", "Reader-123")
        assert (await registry.get("/api/registrar", headers=reader)).status_code == 200
        refused = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "reader.be"}, headers=reader)
        assert refused.status_code == 403 and refused.json()["result_code"] == 2201
        failed = (await tap.wait_for("command.failed"))[-1]["payload"]
        assert (failed["command"], failed["cause"], failed["user_id"]) == ("NEW_DOMAIN", "permission", "reader")
        # only the administrator manages users and the EPP password
        r = await registry.post("/api/registrar/users", headers=reader,
                                json={"user_id": "sneaky", "password": "Sneaky-123", "permissions": []})
        assert r.status_code == 403
        r = await registry.put("/api/registrar/epp-password", headers=reader, json={"new_password": "NewEpp-123"})
        assert r.status_code == 403
        # a read-only user sees no money
        assert "balance_cents" not in (await registry.get("/api/registrar", headers=reader)).json()

    assert (await registry.post("/api/registrar/users", headers=admin, json={
        "user_id": "reader", "password": "Reader-123", "permissions": []})).status_code == 409
    weak = await registry.post("/api/registrar/users", headers=admin,
                               json={"user_id": "weak", "password": "weakpass", "permissions": []})
    assert weak.status_code == 422 and weak.json()["result_code"] == 2306
    assert (await registry.delete("/api/registrar/users/a100001", headers=admin)).status_code == 409
    assert (await registry.delete("/api/registrar/users/reader", headers=admin)).status_code == 204
    assert (await registry.post("/api/login", json={"user_id": "reader", "password": "Reader-123"})).status_code == 401


async def test_two_step_login_and_the_temporary_key_that_works_once(registry: httpx.AsyncClient) -> None:
    admin = await login(registry)
    await registry.post("/api/registrar/users", headers=admin, json={
        "user_id": "clerk", "password": "Clerk-1234", "permissions": ["MY_REGISTRATIONS", "TRANSACTIONS"]})
    clerk = await login(registry, "clerk", "Clerk-1234")
    secret = (await registry.post("/api/registrar/two-step", headers=clerk)).json()["totp_secret"]

    # the password alone does not do: the code step follows (test below); password and code at once still do
    assert (await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})).status_code == 401
    await login(registry, "clerk", "Clerk-1234", code=totp.code_at(secret, datetime.now(UTC)))

    key = (await registry.post("/api/registrar/users/clerk/two-step/temporary-key", headers=admin)).json()
    assert key["valid_seconds"] == 90
    await login(registry, "clerk", "Clerk-1234", code=key["temporary_key"])
    again = await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234",
                                                    "code": key["temporary_key"]})
    assert again.status_code == 401  # once only
    r = await registry.post("/api/registrar/users/a100001/two-step/temporary-key", headers=admin)
    assert r.status_code == 409  # never for the administrator

    attempts = (await registry.get("/api/registrar/users/clerk/login-attempts", headers=admin)).json()
    # newest first: the key again, the key, the code, the sign-in before 2-step (a password step is no attempt)
    assert [a["success"] for a in attempts][:4] == [False, True, True, True]
    assert all(a["ip"] for a in attempts)


async def test_a_blocked_registrar_is_refused_every_command_until_unblocked(
    registry: httpx.AsyncClient, namespace: str
) -> None:
    ctx = ctx_of(registry)
    admin = await login(registry)
    until = datetime.now(UTC) + timedelta(hours=24)
    blocked = new_event(RegistrarBlocked(blocked_until=until, exceeded_at=datetime.now(UTC), hitpoints=100, limit=100),
                        registrar_id="a100001", correlation_id=None, clock=SystemClock())
    await ctx.publisher.publish(blocked)  # as hitpoints does

    async def block_recorded() -> dict:
        return await ctx.db["registrars"].find_one({"_id": "a100001"}) or {}

    await eventually(block_recorded, lambda doc: "blocked_until" in doc)
    refused = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "during-block.be"}, headers=admin)
    assert refused.status_code == 409 and refused.json()["result_code"] == 2308
    assert "blocked by the hitpoint system until" in refused.json()["message"]
    assert (await registry.get("/api/registrar", headers=admin)).status_code == 409  # queries too
    assert await ctx.db["domains"].count_documents({"_id": "during-block.be"}) == 0

    await ctx.publisher.publish(new_event(RegistrarUnblocked(by=UnblockedBy.SELF), registrar_id="a100001",
                                          correlation_id=None, clock=SystemClock()))
    await eventually(block_recorded, lambda doc: "blocked_until" not in doc)
    created = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "during-block.be"}, headers=admin)
    assert created.status_code == 201, created.text
    # a block hitpoints decided before that unblock, arriving only now (requeued, another replica): no effect
    stale = new_event(RegistrarBlocked(blocked_until=until, exceeded_at=datetime.now(UTC), hitpoints=100, limit=100),
                      registrar_id="a100001", correlation_id=None,
                      clock=ManualClock(datetime.now(UTC) - timedelta(minutes=5)))
    await ctx.publisher.publish(stale)
    await asyncio.sleep(1.0)
    assert "blocked_until" not in await block_recorded()


async def test_paying_transactions_debit_cross_watermarks_and_stop_at_a_negative_balance(
    registry: httpx.AsyncClient, namespace: str
) -> None:
    ctx = ctx_of(registry)
    admin = await login(registry)
    # from EUR 2,500 down to EUR 2.00: the next create (EUR 4) goes negative, the one after is refused
    await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 25_200}})
    async with EventTap(namespace) as tap:
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "pay-1.be"}, headers=admin)).status_code == 201
        watermark = (await tap.wait_for("payment.watermark_reached"))[0]["payload"]
        assert watermark == {"level_cents": 25_000, "balance_cents": 24_800}
        await ctx.db["registrars"].update_one({"_id": "a100001"}, {"$set": {"balance_cents": 200}})
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "pay-2.be"}, headers=admin)).status_code == 201
        refused = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "pay-3.be"}, headers=admin)
        assert refused.status_code == 402 and refused.json()["result_code"] == 2104
        assert await ctx.db["domains"].count_documents({"_id": "pay-3.be"}) == 0
        recorded = await tap.wait_for("payment.transaction_recorded", 2)
        assert [p["payload"]["balance_cents"] for p in recorded] == [24_800, -200]
        assert (await tap.wait_for("command.failed"))[0]["payload"]["cause"] == "negative_balance"

        topped = await registry.post("/api/operator/registrars/a100001/prepayments", headers=OPERATOR,
                                     json={"amount_cents": 250_000})
        assert topped.json()["balance_cents"] == 249_800
        assert (await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "pay-3.be"}, headers=admin)).status_code == 201
    balance = (await registry.get("/api/registrar/balance", headers=admin)).json()
    assert balance["balance_cents"] == 249_400
    assert [e["kind"] for e in balance["ledger"][:2]] == ["CREATE", "PREPAYMENT"]


async def test_account_sections_are_validated_and_registrars_see_only_their_own(registry: httpx.AsyncClient) -> None:
    admin = await login(registry)
    bad = [
        ("/api/registrar/profile", PROFILE | {"phone": "+32 9 200 00 00"}),
        ("/api/registrar/profile", PROFILE | {"languages": ["nl", "nl"]}),
        ("/api/registrar/epp-settings", {"poll": True, "ip_addresses": [f"192.0.2.{i}" for i in range(11)]}),
        ("/api/registrar/epp-settings", {"poll": True, "ip_addresses": ["300.1.1.1"]}),
        ("/api/registrar/email-categories", {"legal": [f"l{i}@x.example" for i in range(6)]}),
        ("/api/registrar/product-urls", {"urls": {"be": {"de": "https://x.example"}}}),
    ]
    for path, body in bad:
        assert (await registry.put(path, json=body, headers=admin)).status_code == 422, (path, body)
    good = await registry.put("/api/registrar/epp-settings", headers=admin,
                              json={"poll": False, "ip_addresses": ["192.0.2.1", "2001:db8::1"]})
    assert good.status_code == 200
    account = (await registry.get("/api/registrar", headers=admin)).json()
    assert account["epp_settings"] == {"poll": False, "ip_addresses": ["192.0.2.1", "2001:db8::1"]}
    assert "epp_password_hash" not in account
    # the official address is the operator's
    assert (await registry.put("/api/registrar/official-address", headers=admin, json={})).status_code in (404, 405)


async def test_operators_create_registrars_and_find_a_registrar_lists_product_urls(registry: httpx.AsyncClient) -> None:
    new = {"registrar_id": "b200002", "name": "Second Registrar NV", "profile": PROFILE,
           "official_address": {"organisation": ["Second Registrar NV"], "address": PROFILE["address"]},
           "products": ["be"], "admin_password": "Second-Web-1", "epp_password": "Second-Epp-1"}
    assert (await registry.post("/api/operator/registrars", json=new)).status_code == 401
    assert (await registry.post("/api/operator/registrars", json=new,
                                headers={"Authorization": "Bearer guess"})).status_code == 401
    assert (await registry.post("/api/operator/registrars", json=new, headers=OPERATOR)).status_code == 201
    assert (await registry.post("/api/operator/registrars", json=new, headers=OPERATOR)).status_code == 409

    second = await login(registry, "b200002", "Second-Web-1")
    assert (await registry.put("/api/registrar/product-urls", headers=second,
                               json={"urls": {"vlaanderen": {"default": "https://x.example"}}})).status_code == 422
    assert (await registry.put("/api/registrar/product-urls", headers=second, json={"urls": {
        "be": {"default": "https://second.example/be", "fr": "https://second.example/fr"}}})).status_code == 200
    listed = (await registry.get("/api/public/registrars", params={"product": "be", "language": "fr"})).json()
    assert listed == [{"registrar_id": "b200002", "name": "Second Registrar NV", "url": "https://second.example/fr"}]

    r = await registry.put("/api/operator/registrars/b200002/official-address", headers=OPERATOR,
                           json={"organisation": ["Second Registrar NV"], "address": PROFILE["address"] | {"city": "Brugge"}})
    assert r.status_code == 204
    shown = (await registry.get("/api/registrar", headers=second)).json()
    assert shown["official_address"]["address"]["city"] == "Brugge"
    # each registrar sees only its own account and domains
    assert shown["registrar_id"] == "b200002"
    await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "first-only.be"}, headers=await login(registry))
    assert (await registry.get("/api/domains/first-only.be", headers=second)).status_code == 404
    assert (await registry.post("/api/domains", json={"registrant": "b200002-demo", "name": "second.vlaanderen"}, headers=second)).status_code == 403


async def test_the_profile_category_is_optional_and_travels_in_the_registrar_events(
        registry: httpx.AsyncClient) -> None:
    new = {"registrar_id": "c300003", "name": "Third Hosting BV", "profile": PROFILE | {"category": "WHOLESALE"},
           "official_address": {"organisation": ["Third Hosting BV"], "address": PROFILE["address"]},
           "products": ["be"], "admin_password": "Third-Web-12", "epp_password": "Third-Epp-12"}
    async with EventTap(ctx_of(registry).settings.namespace, "registrar.#") as tap:
        assert (await registry.post("/api/operator/registrars", json=new, headers=OPERATOR)).status_code == 201
        third = await login(registry, "c300003", "Third-Web-12")
        assert (await registry.put("/api/registrar/profile", headers=third,
                                   json=PROFILE | {"category": "retail"})).status_code == 422
        changed = await registry.put("/api/registrar/profile", headers=third,
                                     json=PROFILE | {"category": "RETAIL_AND_HOSTING"})
        assert changed.status_code == 200 and changed.json()["profile"]["category"] == "RETAIL_AND_HOSTING"
        # the profile is replaced as a whole: one without a category has none
        assert (await registry.put("/api/registrar/profile", headers=third, json=PROFILE)).status_code == 200
        # the demo registrar's seed events may still be on their way: this registrar's only
        def of(event_type: str) -> Any:
            return asyncio.sleep(0, [e for e in tap.of(event_type) if e["registrar_id"] == "c300003"])

        created = (await eventually(lambda: of("registrar.created"), lambda found: len(found) >= 1))[0]
        updates = await eventually(lambda: of("registrar.updated"), lambda found: len(found) >= 2)
    assert created["payload"]["category"] == "WHOLESALE"
    assert [u["payload"]["changes"]["category"] for u in updates] == ["RETAIL_AND_HOSTING", None]
    assert (await registry.get("/api/registrar", headers=third)).json()["profile"]["category"] is None
    # the demo registrar, like every account made before categories, has none
    demo = (await registry.get("/api/registrar", headers=await login(registry))).json()
    assert demo["profile"].get("category") is None


async def test_repeated_failed_logins_pause_that_address_for_that_user(namespace: str) -> None:
    clock = ManualClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05)
    async with running(build(settings, clock=clock)) as registry:
        def attempt(password: str) -> Any:
            return registry.post("/api/login", json={"user_id": "a100001", "password": password})

        assert (await attempt("Demo-Web-2026")).status_code == 200
        for _ in range(5):
            assert (await attempt("Wrong-Pass-1")).status_code == 401
        paused = await attempt("Demo-Web-2026")  # even the right password: this address is paused
        assert paused.status_code == 429 and paused.json()["result_code"] == 2502
        assert 0 < int(paused.headers["Retry-After"]) <= 15 * 60
        clock.advance(timedelta(minutes=15, seconds=1))
        assert (await attempt("Demo-Web-2026")).status_code == 200
        # the pause counted no attempt: only the five failures and the two successes are on record
        attempts = await ctx_of(registry).db["login_attempts"].count_documents({"user_id": "a100001"})
        assert attempts == 7


async def clerk_with_two_step(registry: httpx.AsyncClient) -> str:
    admin = await login(registry)
    made = await registry.post("/api/registrar/users", headers=admin, json={
        "user_id": "clerk", "password": "Clerk-1234", "permissions": ["MY_REGISTRATIONS", "TRANSACTIONS"]})
    assert made.status_code == 201, made.text
    clerk = await login(registry, "clerk", "Clerk-1234")
    return str((await registry.post("/api/registrar/two-step", headers=clerk)).json()["totp_secret"])


async def test_sign_in_in_two_steps_password_then_code(registry: httpx.AsyncClient) -> None:
    secret = await clerk_with_two_step(registry)

    first = await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})
    assert first.status_code == 401 and first.json()["result_code"] == 2200
    assert first.json()["two_step_required"] is True and 0 < first.json()["pending_expires_in"] <= 300
    pending = first.json()["pending"]
    stored = await ctx_of(registry).db["pending_sign_ins"].find({}).to_list()  # as a digest only
    assert [len(d["_id"]) for d in stored] == [64] and pending not in str(stored)
    # a wrong password reads exactly as an unknown user: no flag, no token, the same words
    wrong = await registry.post("/api/login", json={"user_id": "clerk", "password": "Wrong-Pass-1"})
    unknown = await registry.post("/api/login", json={"user_id": "nobody-here", "password": "Wrong-Pass-1"})
    assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()
    assert not wrong.json().get("two_step_required") and "pending" not in wrong.text.replace('"pending":null', "")

    # the pending token is no access token and no refresh token, and no staff sign-in
    assert (await registry.get("/api/registrar", headers={"Authorization": f"Bearer {pending}"})).status_code == 401
    assert (await registry.post("/api/token/refresh", json={"refresh_token": pending})).status_code == 401
    staff = await registry.post("/api/staff/login/code", json={"pending": pending, "code": "123456"})
    assert staff.status_code == 401 and staff.json()["sign_in_again"] is True

    # a wrong code is refused and leaves the token; the right one signs in and uses it up
    bad = await registry.post("/api/login/code", json={"pending": pending, "code": "000000"})
    assert bad.status_code == 401 and not bad.json().get("sign_in_again") and "2-step code" in bad.json()["message"]
    code = totp.code_at(secret, datetime.now(UTC))
    signed = await registry.post("/api/login/code", json={"pending": pending, "code": code})
    assert signed.status_code == 200, signed.text
    assert (signed.json()["user_id"], signed.json()["registrar_id"]) == ("clerk", "a100001")
    me = {"Authorization": f"Bearer {signed.json()['token']}"}
    assert (await registry.get("/api/registrar", headers=me)).status_code == 200
    again = await registry.post("/api/login/code", json={"pending": pending, "code": code})
    assert again.status_code == 401 and again.json()["sign_in_again"] is True
    assert (await registry.post("/api/login/code", json={"pending": "made-up", "code": code})).json()["sign_in_again"]

    # a temporary key works in the code step too; a user without 2-step gets its session from the password
    key = (await registry.post("/api/registrar/users/clerk/two-step/temporary-key",
                               headers=await login(registry))).json()["temporary_key"]
    pending = (await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})).json()["pending"]
    assert (await registry.post("/api/login/code", json={"pending": pending, "code": key})).status_code == 200
    assert (await registry.post("/api/login", json={"user_id": "a100001", "password": "Demo-Web-2026"})).status_code == 200

    # the attempts list the code steps (newest first), not the password steps
    attempts = (await registry.get("/api/registrar/users/clerk/login-attempts", headers=await login(registry))).json()
    assert [a["success"] for a in attempts][:4] == [True, True, False, False]
    # a used token is gone
    assert await ctx_of(registry).db["pending_sign_ins"].count_documents({}) == 0

    # the 2-step reset (a lost phone) between the steps voids the pending sign-in, even with the old code
    pending = (await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})).json()["pending"]
    reset = await registry.post("/api/registrar/users/clerk/two-step/reset", headers=await login(registry))
    assert reset.status_code == 204, reset.text
    void = await registry.post("/api/login/code", json={"pending": pending, "code": totp.code_at(secret, datetime.now(UTC))})
    assert void.status_code == 401 and void.json()["sign_in_again"] is True


async def test_wrong_codes_count_toward_the_login_pause_and_a_pending_sign_in_expires(namespace: str) -> None:
    clock = ManualClock(datetime.now(UTC))
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05)
    async with running(build(settings, clock=clock)) as registry:
        secret = await clerk_with_two_step(registry)

        async def password_step() -> str:
            r = await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})
            assert r.status_code == 401 and r.json()["two_step_required"], r.text
            return str(r.json()["pending"])

        pending = await password_step()
        for _ in range(5):
            assert (await registry.post("/api/login/code", json={"pending": pending, "code": "000000"})).status_code == 401
        right = totp.code_at(secret, clock.now())
        paused = await registry.post("/api/login/code", json={"pending": pending, "code": right})
        assert paused.status_code == 429 and paused.json()["result_code"] == 2502
        assert 0 < int(paused.headers["Retry-After"]) <= 15 * 60
        # the password step is paused as well: five wrong codes pause like five wrong passwords
        again = await registry.post("/api/login", json={"user_id": "clerk", "password": "Clerk-1234"})
        assert again.status_code == 429

        clock.advance(timedelta(minutes=15, seconds=1))
        expired = await registry.post("/api/login/code", json={"pending": pending, "code": totp.code_at(secret, clock.now())})
        assert expired.status_code == 401 and expired.json()["sign_in_again"] is True  # 5 minutes, long gone
        fresh = await password_step()
        clock.advance(timedelta(minutes=4))
        signed = await registry.post("/api/login/code", json={"pending": fresh, "code": totp.code_at(secret, clock.now())})
        assert signed.status_code == 200, signed.text


async def test_a_token_counts_only_for_the_user_whose_session_it_names(registry: httpx.AsyncClient) -> None:
    """The session and the user are read at once (users/accounts.py by_token): a token signed with the registry's
    key that names another user's session (only a leaked key could mint one) is refused, not served as either."""
    admin = await login(registry)
    made = await registry.post("/api/registrar/users", headers=admin, json={
        "user_id": "clerk", "password": "Clerk-1234", "permissions": ["MY_REGISTRATIONS"]})
    assert made.status_code == 201, made.text
    clerk = await login(registry, "clerk", "Clerk-1234")
    clerks_session = jwt.decode(clerk["Authorization"].split()[1], options={"verify_signature": False})["sid"]
    assert (await registry.get("/api/registrar", headers=clerk)).status_code == 200
    tokens = session_tokens(ctx_of(registry))
    crossed = tokens.issue(user_id="a100001", registrar_id="a100001", permissions=["MY_REGISTRATIONS", "ACCOUNT"],
                           session_id=clerks_session, expires_at=datetime.now(UTC) + timedelta(minutes=5))
    refused = await registry.get("/api/registrar", headers={"Authorization": f"Bearer {crossed}"})
    assert refused.status_code == 401, refused.text
