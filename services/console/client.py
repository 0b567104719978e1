"""The console's client of the five services' HTTP APIs, always with the signed-in user's token.

A refusal becomes `ApiRefused` with what the page shows: the result code, the message, the reference and
the errors per field. The services answer refusals in three shapes today and the console reads each:
the platform's `{"result_code", "message", "reference", "errors": [{"field", "message"}]}`, FastAPI's
validation `{"detail": [{"loc", "msg", "type"}]}` and a rule's `{"detail": {"result_code", "message"}}`
(or a plain `{"detail": "..."}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from services.console.refusals import KIND_WORDS, Phrase, fastapi_kind, field_phrase, headline
from services.console.settings import ConsoleSettings

Service = Literal["registry", "hitpoints", "verification", "notifications", "reporting"]

@dataclass
class FieldError:
    field: str
    message: Phrase  # English, with what the page's `_` says it with in Dutch or French (refusals.py)


@dataclass
class ApiRefused(Exception):
    status: int
    message: str
    result_code: int | None = None
    reference: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    retry_after: int | None = None
    # a refused sign-in step (the registry's LoginRefused): the password was right and the code step follows
    # with `pending`; or the code step's pending token is gone and the password is asked again
    two_step_required: bool = False
    pending: str | None = None
    pending_expires_in: int | None = None
    sign_in_again: bool = False
    # which refusal it is, where a service names it beside its message (the verification service: kind and
    # params, for the registrant's page to say it in the registrant's language)
    kind: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def for_field(self, name: str) -> list[Phrase]:
        return [e.message for e in self.errors if e.field == name or e.field.startswith(name + ".")]

    def in_language(self, language: str, _: Callable[[str], str]) -> tuple[str, str | None]:
        """The headline in the page's language, and the service's own words beside it where they say more."""
        # the summary adds nothing when every error is said in words next to its field (a kind, not free text)
        placed = bool(self.errors) and all(e.field and e.message.key in KIND_WORDS.values() for e in self.errors)
        return headline(self.message, self.result_code, placed, language, _)


class SignedOut(Exception):
    """The API no longer accepts the session's token (expired, signed out elsewhere)."""


def _field_name(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def _fastapi_error(error: dict[str, Any]) -> FieldError:
    name = _field_name(error.get("loc", []))
    kind, params = fastapi_kind(name, error)
    message = str(error.get("msg") or "is not valid").removeprefix("Value error, ")
    return FieldError(name, field_phrase(kind, params, name, message))


def _platform_error(error: dict[str, Any]) -> FieldError:
    """The registry says each field's error with a kind and values (field_errors.py); a message without one that
    still shows a regular expression (another service's) is put in words here."""
    name, message = str(error.get("field", "")), str(error.get("message") or "is not valid")
    kind, params = error.get("kind"), error.get("params") or {}
    if not kind and _looks_like_a_pattern(message):
        kind, params = fastapi_kind(name, {"msg": message, "type": "string_pattern_mismatch"})
    return FieldError(name, field_phrase(str(kind) if kind else None, params, name, message))


def _looks_like_a_pattern(message: str) -> bool:
    return not message or any(w in message.lower() for w in ("pattern", "match", "^", "regex"))


def refusal_of(response: httpx.Response) -> ApiRefused:
    try:
        body: Any = response.json()
    except ValueError:
        body = {"message": response.text[:300] or response.reason_phrase}
    retry_after = response.headers.get("Retry-After")
    refused = ApiRefused(status=response.status_code, message=response.reason_phrase or "refused",
                         retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None)
    if isinstance(body, dict) and "detail" in body and "message" not in body:
        body = body["detail"]
    if isinstance(body, list):  # FastAPI's validation errors
        refused.message = "Some fields are not valid"
        refused.errors = [_fastapi_error(e) for e in body if isinstance(e, dict)]
    elif isinstance(body, dict):
        refused.message = str(body.get("message") or refused.message)
        refused.result_code = body.get("result_code")
        refused.reference = body.get("reference")
        refused.two_step_required = body.get("two_step_required") is True
        refused.pending = body.get("pending") if isinstance(body.get("pending"), str) else None
        expires_in = body.get("pending_expires_in")
        refused.pending_expires_in = expires_in if isinstance(expires_in, int) else None
        refused.sign_in_again = body.get("sign_in_again") is True
        refused.kind = body.get("kind") if isinstance(body.get("kind"), str) else None
        params = body.get("params")
        refused.params = params if isinstance(params, dict) else {}
        refused.errors = [_platform_error(e) for e in body.get("errors") or [] if isinstance(e, dict)]
    elif isinstance(body, str):
        refused.message = body
    return refused


class Services:
    """One HTTP connection pool per service, shared by every request of the process."""

    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        urls = {"registry": settings.registry_url, "hitpoints": settings.hitpoints_url,
                "verification": settings.verification_url, "notifications": settings.notifications_url,
                "reporting": settings.reporting_url}
        self.clients = {name: httpx.AsyncClient(base_url=url, timeout=settings.api_timeout_seconds, transport=transport)
                        for name, url in urls.items()}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def as_user(self, token: str | None, correlation_id: str | None = None, client_address: str | None = None) -> Api:
        return Api(self, token, correlation_id, client_address)


class Api:
    """The services as one signed-in user calls them.

    `client_address` is the browser's address as the console sees it. It goes on as X-Forwarded-For so that the
    registry's login pause and the *Login attempts* list count the person, not the console: without it, wrong
    passwords typed at the console by anyone would pause a user's console sign-in for everyone. The services
    take the header only from addresses they trust (uvicorn's FORWARDED_ALLOW_IPS, README)."""

    def __init__(self, services: Services, token: str | None, correlation_id: str | None,
                 client_address: str | None = None) -> None:
        self.services = services
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        if correlation_id:
            self.headers["X-Correlation-ID"] = correlation_id
        if client_address:
            self.headers["X-Forwarded-For"] = client_address

    async def raw(self, service: Service, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.services.clients[service].request(method, path, headers=self.headers, **kwargs)
        if response.status_code == 401 and self.headers.get("Authorization") and not path.endswith(("/login", "/login/code")):
            raise SignedOut(path)
        if response.status_code >= 400:
            raise refusal_of(response)
        return response

    async def call(self, service: Service, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.raw(service, method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, params={k: v for k, v in params.items() if v is not None})

    async def post(self, service: Service, path: str, body: Any = None) -> Any:
        return await self.call(service, "POST", path, json=body)

    async def put(self, service: Service, path: str, body: Any = None) -> Any:
        return await self.call(service, "PUT", path, json=body)

    async def delete(self, service: Service, path: str, body: Any = None) -> Any:
        return await self.call(service, "DELETE", path, json=body) if body is not None else \
            await self.call(service, "DELETE", path)
