"""Signed session tokens (shared/auth.py): what the registry issues, every service verifies."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from shared.auth import ExpiredToken, InvalidToken, SessionAuth, SessionClaims, SessionTokens, operator_guard
from shared.clock import ManualClock

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
SECRET = SecretStr("a-test-secret")


def issue(tokens: SessionTokens, **over: object) -> str:
    claims = {"user_id": "a100001", "registrar_id": "a100001", "permissions": {"MY_REGISTRATIONS", "TRANSACTIONS"},
              "session_id": "s1", "expires_at": NOW + timedelta(hours=8)} | over
    return tokens.issue(**claims)  # type: ignore[arg-type]


def test_a_token_round_trips_its_claims() -> None:
    tokens = SessionTokens(SECRET)
    claims = tokens.verify(issue(tokens), NOW)
    assert claims == SessionClaims(user_id="a100001", registrar_id="a100001",
                                   permissions=frozenset({"MY_REGISTRATIONS", "TRANSACTIONS"}), session_id="s1",
                                   expires_at=NOW + timedelta(hours=8))


def test_another_secret_or_an_altered_token_is_refused() -> None:
    token = issue(SessionTokens(SECRET))
    with pytest.raises(InvalidToken):
        SessionTokens(SecretStr("other")).verify(token, NOW)
    version, body, signature = token.split(".")
    forged = issue(SessionTokens(SECRET), registrar_id="b200002").split(".")[1]
    for bad in (f"{version}.{forged}.{signature}", f"v2.{body}.{signature}", "garbage", "", f"{version}.{body}.",
                token + "x"):
        with pytest.raises(InvalidToken):
            SessionTokens(SECRET).verify(bad, NOW)


def test_an_expired_token_is_refused() -> None:
    tokens = SessionTokens(SECRET)
    token = issue(tokens)
    assert tokens.verify(token, NOW + timedelta(hours=7, minutes=59))
    with pytest.raises(ExpiredToken):
        tokens.verify(token, NOW + timedelta(hours=8))


async def test_the_fastapi_dependency_answers_401_and_403() -> None:
    clock = ManualClock(NOW)
    auth = SessionAuth(SECRET, clock)
    app = FastAPI()

    Viewer = Annotated[SessionClaims, Depends(auth.requires("MY_REGISTRATIONS"))]
    Operator = Annotated[str, Depends(operator_guard(SecretStr("op")))]

    @app.get("/screen")
    async def screen(user: Viewer) -> dict:
        return {"registrar": user.registrar_id}

    @app.get("/operator")
    async def operator(_: Operator) -> dict:
        return {}

    tokens = SessionTokens(SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        def bearer(token: str) -> dict:
            return {"Authorization": f"Bearer {token}"}

        assert (await client.get("/screen")).status_code == 401
        assert (await client.get("/screen", headers=bearer("nonsense"))).status_code == 401
        ok = await client.get("/screen", headers=bearer(issue(tokens)))
        assert ok.status_code == 200 and ok.json() == {"registrar": "a100001"}
        assert (await client.get("/screen", headers=bearer(issue(tokens, permissions=set())))).status_code == 403
        clock.advance(timedelta(hours=9))
        assert (await client.get("/screen", headers=bearer(issue(tokens)))).status_code == 401
        assert (await client.get("/operator", headers=bearer("op"))).status_code == 200
        assert (await client.get("/operator", headers=bearer("nope"))).status_code == 401
