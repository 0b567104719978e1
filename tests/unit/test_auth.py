"""Session tokens (shared/auth.py): EdDSA JWTs only the registry mints, every service verifies with its JWKS."""

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from shared.auth import (
    AUDIENCE,
    ISSUER,
    ExpiredToken,
    InvalidToken,
    RemoteKeys,
    SessionAuth,
    SessionClaims,
    SessionTokens,
    SigningKeys,
    StaticKeys,
    new_signing_key,
    operator_guard,
)
from shared.clock import ManualClock
from shared.sealing import Sealer, Unsealable

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
REGISTRY_KEY = SecretStr(new_signing_key())


def issue(tokens: SessionTokens, **over: object) -> str:
    claims = {"user_id": "a100001", "registrar_id": "a100001", "permissions": {"MY_REGISTRATIONS", "TRANSACTIONS"},
              "session_id": "s1", "expires_at": NOW + timedelta(minutes=15), "issued_at": NOW} | over
    return tokens.issue(**claims)  # type: ignore[arg-type]


def verifier(*seeds: SecretStr) -> SessionTokens:
    """What another service holds: the registry's public keys only."""
    return SessionTokens(keys=StaticKeys(SigningKeys(list(seeds)).jwks()))


async def test_a_token_is_a_standard_eddsa_jwt_that_round_trips_its_claims() -> None:
    registry = SessionTokens(SigningKeys([REGISTRY_KEY]))
    token = issue(registry)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == SigningKeys([REGISTRY_KEY]).kid
    claims = await verifier(REGISTRY_KEY).verify(token, NOW)
    assert claims == SessionClaims(user_id="a100001", registrar_id="a100001",
                                   permissions=frozenset({"MY_REGISTRATIONS", "TRANSACTIONS"}), session_id="s1",
                                   expires_at=NOW + timedelta(minutes=15))


async def test_a_token_minted_with_any_key_not_in_the_jwks_is_refused() -> None:
    service = verifier(REGISTRY_KEY)
    # another service with a key of its own, even claiming the registry's kid
    other = SigningKeys([SecretStr(new_signing_key())])
    with pytest.raises(InvalidToken, match="does not publish"):
        await service.verify(issue(SessionTokens(other)), NOW)
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "b200002", "rid": "b200002", "perms": ["TRANSACTIONS"],
               "sid": "x", "iat": int(NOW.timestamp()), "exp": int((NOW + timedelta(minutes=5)).timestamp())}
    other_private = other._keys[0]
    impostor = jwt.encode(payload, other_private, algorithm="EdDSA", headers={"kid": SigningKeys([REGISTRY_KEY]).kid})
    with pytest.raises(InvalidToken, match="bad token"):
        await service.verify(impostor, NOW)
    # the old shared-secret scheme (HMAC), and HMAC keyed with the public key (algorithm confusion)
    public_x = SigningKeys([REGISTRY_KEY]).jwks()["keys"][0]["x"]
    for secret in ("local-dev-internal-secret-change-me", public_x):
        hmac_token = jwt.encode(payload, secret, algorithm="HS256", headers={"kid": SigningKeys([REGISTRY_KEY]).kid})
        with pytest.raises(InvalidToken):
            await service.verify(hmac_token, NOW)
    unsigned = jwt.encode(payload, None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        await service.verify(unsigned, NOW)


async def test_an_altered_token_or_another_audience_is_refused() -> None:
    registry = SessionTokens(SigningKeys([REGISTRY_KEY]))
    header, body, signature = issue(registry).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(claims | {"rid": "b200002"}).encode()).rstrip(b"=").decode()
    for bad in (f"{header}.{forged}.{signature}", "garbage", "", f"{header}.{body}.", f"{header}.{body}.{signature}x"):
        with pytest.raises(InvalidToken):
            await verifier(REGISTRY_KEY).verify(bad, NOW)


async def test_an_expired_token_is_refused_on_the_services_clock() -> None:
    token = issue(SessionTokens(SigningKeys([REGISTRY_KEY])))
    assert await verifier(REGISTRY_KEY).verify(token, NOW + timedelta(minutes=14, seconds=59))
    with pytest.raises(ExpiredToken):
        await verifier(REGISTRY_KEY).verify(token, NOW + timedelta(minutes=15))
    # a service on a clock ahead of the wall clock (tests move it) judges issue and expiry on its own clock
    later = NOW + timedelta(days=4000)
    ahead = issue(SessionTokens(SigningKeys([REGISTRY_KEY])), issued_at=later, expires_at=later + timedelta(minutes=15))
    assert await verifier(REGISTRY_KEY).verify(ahead, later)


async def test_rotation_the_newest_key_signs_and_a_previous_one_verifies_while_published() -> None:
    old, new = REGISTRY_KEY, SecretStr(new_signing_key())
    before = issue(SessionTokens(SigningKeys([old])))
    rotated = SigningKeys([new, old])
    after = issue(SessionTokens(rotated))
    assert jwt.get_unverified_header(after)["kid"] == SigningKeys([new]).kid
    both = verifier(new, old)
    assert (await both.verify(before, NOW)).user_id == "a100001"
    assert (await both.verify(after, NOW)).user_id == "a100001"
    with pytest.raises(InvalidToken):  # once the old key is no longer published
        await verifier(new).verify(before, NOW)


class _Jwks:
    """A JWKS endpoint over real HTTP whose key set the test changes, counting fetches."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks, self.fetches = jwks, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"


@pytest.fixture
def jwks_server() -> Iterator[_Jwks]:
    server = _Jwks(SigningKeys([REGISTRY_KEY]).jwks())
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()


async def test_remote_keys_are_cached_and_a_new_kid_fetches_again(jwks_server: _Jwks) -> None:
    keys = RemoteKeys(jwks_server.url, cache_seconds=300, min_refresh_seconds=0)
    service = SessionTokens(keys=keys)
    for _ in range(3):
        await service.verify(issue(SessionTokens(SigningKeys([REGISTRY_KEY]))), NOW)
    assert jwks_server.fetches == 1
    # the registry rotates: publishes [new, old] and signs with the new key; no restart of the verifier
    new = SecretStr(new_signing_key())
    jwks_server.jwks = SigningKeys([new, REGISTRY_KEY]).jwks()
    assert (await service.verify(issue(SessionTokens(SigningKeys([new, REGISTRY_KEY]))), NOW)).user_id == "a100001"
    assert jwks_server.fetches == 2
    assert await service.verify(issue(SessionTokens(SigningKeys([REGISTRY_KEY]))), NOW)  # old: still published
    with pytest.raises(InvalidToken):
        await service.verify(issue(SessionTokens(SigningKeys([SecretStr(new_signing_key())]))), NOW)


class _Denied:
    def __init__(self) -> None:
        self.sessions: set[str] = set()

    async def is_revoked(self, session_id: str) -> bool:
        return session_id in self.sessions


async def test_the_fastapi_dependency_answers_401_for_forged_expired_or_revoked_and_403() -> None:
    clock = ManualClock(NOW)
    denied = _Denied()
    auth = SessionAuth(StaticKeys(SigningKeys([REGISTRY_KEY]).jwks()), clock, denied)
    app = FastAPI()

    Viewer = Annotated[SessionClaims, Depends(auth.requires("MY_REGISTRATIONS"))]
    Operator = Annotated[str, Depends(operator_guard(SecretStr("op")))]

    @app.get("/screen")
    async def screen(user: Viewer) -> dict:
        return {"registrar": user.registrar_id}

    @app.get("/operator")
    async def operator(_: Operator) -> dict:
        return {}

    registry = SessionTokens(SigningKeys([REGISTRY_KEY]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        def bearer(token: str) -> dict:
            return {"Authorization": f"Bearer {token}"}

        assert (await client.get("/screen")).status_code == 401
        assert (await client.get("/screen", headers=bearer("nonsense"))).status_code == 401
        other = SessionTokens(SigningKeys([SecretStr(new_signing_key())]))
        assert (await client.get("/screen", headers=bearer(issue(other)))).status_code == 401
        ok = await client.get("/screen", headers=bearer(issue(registry)))
        assert ok.status_code == 200 and ok.json() == {"registrar": "a100001"}
        assert (await client.get("/screen", headers=bearer(issue(registry, permissions=set())))).status_code == 403
        denied.sessions.add("s1")
        revoked = await client.get("/screen", headers=bearer(issue(registry)))
        assert revoked.status_code == 401 and "session has ended" in revoked.json()["detail"]
        assert (await client.get("/screen", headers=bearer(issue(registry, session_id="s2")))).status_code == 200
        clock.advance(timedelta(minutes=16))
        assert (await client.get("/screen", headers=bearer(issue(registry, session_id="s2")))).status_code == 401
        assert (await client.get("/operator", headers=bearer("op"))).status_code == 200
        assert (await client.get("/operator", headers=bearer("nope"))).status_code == 401


def test_only_a_key_holder_mints() -> None:
    with pytest.raises(RuntimeError):
        issue(SessionTokens(keys=StaticKeys(SigningKeys([REGISTRY_KEY]).jwks())))
    with pytest.raises(ValueError, match="32 bytes"):
        SigningKeys([SecretStr("too-short")])


def test_sealed_values_rotate_with_multifernet() -> None:
    old, new = SecretStr("old-secret"), SecretStr("new-secret")
    sealed_before = Sealer(old, "transfer-code").seal("123-456-789")
    digest_before = Sealer(old, "transfer-code").digest("123-456-789")
    rotated = Sealer([new, old], "transfer-code")
    assert rotated.open(sealed_before) == "123-456-789"
    assert rotated.matches("123-456-789", digest_before)
    assert digest_before in rotated.digests("123-456-789")
    sealed_after = rotated.seal("987")
    assert Sealer(new, "transfer-code").open(sealed_after) == "987"  # the newest seals
    with pytest.raises(Unsealable):
        Sealer(old, "transfer-code").open(sealed_after)
    assert Sealer(new, "transfer-code").open(rotated.reseal(sealed_before)) == "123-456-789"
    with pytest.raises(Unsealable):  # the old secret dropped: its values no longer open
        Sealer(new, "transfer-code").open(sealed_before)
