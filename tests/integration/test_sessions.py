"""Session tokens across the platform: the registry (a real process) mints them and publishes its keys at
/.well-known/jwks.json; the other four services fetch that key set over HTTP and refuse what the registry
did not sign; logout and a password change reach every service through session.revoked within 5 s."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
from pydantic import SecretStr

from services.hitpoints.app import build as build_hitpoints
from services.hitpoints.settings import HitpointsSettings
from services.notifications.app import build as build_notifications
from services.notifications.settings import NotificationsSettings
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from services.verification.app import build as build_verification
from services.verification.settings import VerificationSettings
from shared.auth import SessionTokens, SigningKeys, new_signing_key
from tests.integration.infra import DEMO_AUTH, ServiceProcess, eventually, running

# a guarded endpoint of each service: 401 only when the token is refused
PROBES = {
    "hitpoints": "/api/hitpoints",
    "verification": "/api/verification/contacts/no-such-contact",
    "notifications": "/api/poll/messages",
    "reporting": "/api/portfolios",
}
CURRENT, PREVIOUS = new_signing_key(), new_signing_key()


@contextlib.asynccontextmanager
async def platform(namespace: str, tmp_path: Path) -> AsyncIterator[tuple[ServiceProcess, dict[str, httpx.AsyncClient]]]:
    registry = ServiceProcess("registry", namespace, tmp_path, SEED_DEMO_REGISTRAR="true", EPP_PORT="0",
                              OUTBOX_POLL_SECONDS="0.05", TOKEN_SIGNING_KEYS=json.dumps([CURRENT, PREVIOUS]))
    await registry.start()
    common = {"namespace": namespace, "jwks_url": f"{registry.url}/.well-known/jwks.json", "outbox_poll_seconds": 0.05}
    apps = {
        "hitpoints": build_hitpoints(HitpointsSettings(**common)),  # type: ignore[arg-type]
        "verification": build_verification(VerificationSettings(**common)),  # type: ignore[arg-type]
        "notifications": build_notifications(NotificationsSettings(**common)),  # type: ignore[arg-type]
        "reporting": build_reporting(ReportingSettings(**common, reports_dir=tmp_path / "reports",  # type: ignore[arg-type]
                                                       jobs_enabled=False)),
    }
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = {name: await stack.enter_async_context(running(app)) for name, app in apps.items()}
            yield registry, clients
    finally:
        registry.stop()


async def statuses(clients: dict[str, httpx.AsyncClient], token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(*(clients[name].get(path, headers=headers) for name, path in PROBES.items()))
    return {name: answer.status_code for name, answer in zip(PROBES, answers, strict=True)}


def accepted(codes: dict[str, int]) -> bool:
    return all(code != 401 for code in codes.values())


async def test_only_the_registrys_published_keys_are_trusted_and_revocation_reaches_every_service(
    namespace: str, tmp_path: Path
) -> None:
    async with platform(namespace, tmp_path) as (registry, services), httpx.AsyncClient(base_url=registry.url) as http:
        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [SigningKeys([SecretStr(k)]).kid for k in (CURRENT, PREVIOUS)]
        assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])  # public halves only

        login = (await http.post("/api/login", json={"user_id": DEMO_AUTH[0], "password": DEMO_AUTH[1]})).json()
        token = login["token"]
        assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]  # the newest key signs
        assert 0 < login["expires_in"] <= 15 * 60
        codes = await statuses(services, token)
        assert accepted(codes), codes

        # minted with a key the registry does not publish (another service's): refused everywhere
        claims = {"user_id": "a100001", "registrar_id": "a100001", "permissions": ["MY_REGISTRATIONS"],
                  "expires_at": datetime.now(UTC) + timedelta(minutes=5)}
        forged = SessionTokens(SigningKeys([SecretStr(new_signing_key())])).issue(**claims)  # type: ignore[arg-type]
        assert set((await statuses(services, forged)).values()) == {401}
        assert (await http.get("/api/registrar", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
        # minted with the previous key, still published: verifies (rotation without downtime)
        previous = SessionTokens(SigningKeys([SecretStr(PREVIOUS)])).issue(**claims)  # type: ignore[arg-type]
        assert accepted(await statuses(services, previous))

        # a refresh gives a new access token of the same session; the refresh token works once
        refreshed = await http.post("/api/token/refresh", json={"refresh_token": login["refresh_token"]})
        assert refreshed.status_code == 200
        again = await http.post("/api/token/refresh", json={"refresh_token": login["refresh_token"]})
        assert again.status_code == 401
        second = refreshed.json()["token"]
        assert accepted(await statuses(services, second))

        # logout: the registry refuses at once, every other service within 5 s
        bearer = {"Authorization": f"Bearer {second}"}
        assert (await http.post("/api/logout", headers=bearer)).status_code == 204
        started = time.monotonic()
        assert (await http.get("/api/registrar", headers=bearer)).status_code == 401
        for old in (token, second):  # every access token of the session
            codes = await eventually(lambda old=old: statuses(services, old),  # type: ignore[misc]
                                     lambda codes: set(codes.values()) == {401}, timeout=5)
        assert time.monotonic() - started <= 5, codes
        refused = (await services["hitpoints"].get(PROBES["hitpoints"], headers=bearer)).json()
        assert "session has ended" in refused["detail"]
        assert (await http.post("/api/token/refresh", json={"refresh_token": refreshed.json()["refresh_token"]})
                ).status_code == 401

        # a password change ends every session of the user, here and everywhere
        first = (await http.post("/api/login", json={"user_id": DEMO_AUTH[0], "password": DEMO_AUTH[1]})).json()
        other = (await http.post("/api/login", json={"user_id": DEMO_AUTH[0], "password": DEMO_AUTH[1]})).json()
        assert accepted(await statuses(services, other["token"]))
        change = await http.put(f"/api/registrar/users/{DEMO_AUTH[0]}/password",
                                headers={"Authorization": f"Bearer {first['token']}"},
                                json={"current_password": DEMO_AUTH[1], "new_password": "Changed-Web-2026"})
        assert change.status_code == 204, change.text
        started = time.monotonic()
        for session in (first, other):
            await eventually(lambda s=session: statuses(services, s["token"]),  # type: ignore[misc]
                             lambda codes: set(codes.values()) == {401}, timeout=5)
        assert time.monotonic() - started <= 5
        fresh = (await http.post("/api/login", json={"user_id": DEMO_AUTH[0], "password": "Changed-Web-2026"})).json()
        assert accepted(await statuses(services, fresh["token"]))
