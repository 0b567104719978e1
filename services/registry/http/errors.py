"""How every refusal shows over HTTP: one shape, one mapping, for the whole app.

A refusal of a rule (CommandRefused) and a refusal of the input (FastAPI's validation, 422) both answer

    {"result_code": 2005, "message": "...", "reference": "web-...", "errors": [{"field": "phone", "message": "..."}]}

and both are published as command.failed for the registrar that sent them (seed 000: invalid web forms
update the hitpoint counter), under the reference the hitpoints screen lists. A request without a valid
registrar token publishes nothing (there is no registrar to score): 401 stays 401.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.registry.commands import Actor, new_reference, report_refusal
from services.registry.field_errors import field_name, in_words, kind_of
from services.registry.results import CommandRefused, Result
from shared.events import Channel, CommandType
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# how a refusal shows over HTTP; the body always carries the EPP code and message
_HTTP_STATUS = {
    Result.AUTHENTICATION_ERROR: status.HTTP_401_UNAUTHORIZED,
    Result.AUTHORIZATION_ERROR: status.HTTP_403_FORBIDDEN,
    Result.INVALID_AUTHORIZATION_INFO: status.HTTP_403_FORBIDDEN,
    Result.OBJECT_EXISTS: status.HTTP_409_CONFLICT,
    Result.OBJECT_DOES_NOT_EXIST: status.HTTP_404_NOT_FOUND,
    Result.STATUS_PROHIBITS: status.HTTP_409_CONFLICT,
    Result.ASSOCIATION_PROHIBITS: status.HTTP_409_CONFLICT,
    Result.DATA_MANAGEMENT_POLICY: status.HTTP_409_CONFLICT,
    Result.BILLING_FAILURE: status.HTTP_402_PAYMENT_REQUIRED,
    Result.SESSION_LIMIT: status.HTTP_429_TOO_MANY_REQUESTS,
}
# an HTTP error raised without a result code (no token, unknown path) gets the nearest EPP one
_RESULT_OF_STATUS = {401: Result.AUTHENTICATION_ERROR, 403: Result.AUTHORIZATION_ERROR,
                     404: Result.OBJECT_DOES_NOT_EXIST, 405: Result.UNIMPLEMENTED_COMMAND,
                     409: Result.STATUS_PROHIBITS, 429: Result.SESSION_LIMIT}

# the command a registrar's form is, for the command.failed of a refusal raised before the command ran
FORM_COMMANDS: dict[tuple[str, str], CommandType] = {
    ("POST", "/api/domains"): CommandType.NEW_DOMAIN,
    ("GET", "/api/domains/{name}"): CommandType.INFO_DOMAIN,
    ("PUT", "/api/domains/{name}"): CommandType.UPD_DOMAIN,
    ("DELETE", "/api/domains/{name}"): CommandType.DEL_DOMAIN,
    ("POST", "/api/domains/{name}/undelete"): CommandType.UNDELETE_DOMAIN,
    ("POST", "/api/domains/{name}/reactivate"): CommandType.REACTIVATE_DOMAIN,
    ("PUT", "/api/domains/{name}/transfer-lock"): CommandType.LOCK_DOMAIN,
    ("DELETE", "/api/domains/{name}/transfer-lock"): CommandType.UNLOCK_DOMAIN,
    ("POST", "/api/domains/{name}/lock-complaint/answer"): CommandType.LOCK_DOMAIN,
    ("POST", "/api/domains/{name}/transfer-code"): CommandType.REQUEST_AUTHCODE,
    ("POST", "/api/domains/{name}/transfer"): CommandType.TRANSFER_DOMAIN,
    ("POST", "/api/contacts"): CommandType.NEW_CONTACT,
    ("GET", "/api/contacts/check"): CommandType.CHECK_CONTACT,
    ("GET", "/api/contacts/{alias}"): CommandType.INFO_CONTACT,
    ("PUT", "/api/contacts/{alias}"): CommandType.UPD_CONTACT,
    ("DELETE", "/api/contacts/{alias}"): CommandType.DEL_CONTACT,
    ("POST", "/api/nsgroups"): CommandType.NEW_NSGROUP,
    ("GET", "/api/nsgroups"): CommandType.INFO_NSGROUP,
    ("GET", "/api/nsgroups/{name}"): CommandType.INFO_NSGROUP,
    ("PUT", "/api/nsgroups/{name}"): CommandType.UPD_NSGROUP,
    ("DELETE", "/api/nsgroups/{name}"): CommandType.DEL_NSGROUP,
    ("POST", "/api/keygroups"): CommandType.NEW_KEYGROUP,
    ("GET", "/api/keygroups"): CommandType.INFO_KEYGROUP,
    ("GET", "/api/keygroups/{name}"): CommandType.INFO_KEYGROUP,
    ("PUT", "/api/keygroups/{name}"): CommandType.UPD_KEYGROUP,
    ("DELETE", "/api/keygroups/{name}"): CommandType.DEL_KEYGROUP,
    ("POST", "/api/registrar/users"): CommandType.NEW_USER,
    ("GET", "/api/registrar/users"): CommandType.INFO_USER,
    ("DELETE", "/api/registrar/users/{user_id}"): CommandType.DEL_USER,
    ("GET", "/api/registrar/users/{user_id}/login-attempts"): CommandType.INFO_USER,
}
_OBJECT_KEYS = ("name", "alias", "user_id")


def command_of(method: str, path: str) -> CommandType | None:
    """The command type a registrar's request is published under; the account's other forms are registrar
    or user updates and reads."""
    if (method, path) in FORM_COMMANDS:
        return FORM_COMMANDS[(method, path)]
    if path.startswith("/api/registrar/users/"):
        return CommandType.UPD_USER
    if path.startswith("/api/registrar"):
        return CommandType.INFO_REGISTRAR if method == "GET" else CommandType.UPD_REGISTRAR
    return None


class FieldError(BaseModel):
    field: str = Field(description="the form field, dotted for nested ones (tech.5, name_servers.0.addresses)",
                       examples=["phone"])
    message: str = Field(examples=["must be +CC.NUMBER, for example +32.16284971"])
    kind: str | None = Field(default=None, description=(
        "what is wrong, as a key to say it in another language: required, format (params.format: phone, country, "
        "vat, transfer_code, registrar_id, group_name, tld, language), not_a_field, too_many / too_few (a list: "
        "params max or min, items, given), too_long / too_short (characters: params max or min), invalid (the "
        "message says); none for a rule's refusal about the field"), examples=["format"])
    params: dict[str, str | int] = Field(default_factory=dict, description="the values the kind's words need",
                                         examples=[{"format": "phone"}])


class ErrorBody(BaseModel):
    """Every refusal's body."""

    result_code: int = Field(description="the EPP result code (RFC 5730; .be meanings in the README)",
                             examples=[2005])
    message: str = Field(examples=["phone must be +CC.NUMBER, for example +32.16284971"])
    reference: str | None = Field(default=None, description=(
        "the transaction reference the hitpoints screen lists for this refusal; none when no registrar is "
        "scored (no valid token, an operator's request)"), examples=["web-3f2a9c01d4e5b6a7"])
    errors: list[FieldError] = Field(default_factory=list, description="one entry per offending field")


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the refusals an operation can answer, each with the error body."""
    described = {400: "Malformed request", 401: "No valid token (log in first, or the operator token)",
                 402: "Not enough prepayment (2104)", 403: "Not allowed for this user or registrar (2201, 2202)",
                 404: "No such object of yours (2303)",
                 409: "The object's state or an existing one prohibits it (2302, 2304, 2305, 2308)",
                 422: "Invalid input (2003, 2005, 2306): the errors name the fields",
                 429: "Too many attempts (2502): retry after Retry-After seconds"}
    return {code: {"model": ErrorBody, "description": described.get(code, "Refused")} for code in codes}


RegistrarOf = Callable[[Request], Awaitable[Actor | None]]


def http_refusal(exc: Exception) -> tuple[int, str] | None:
    """The HTTP status and reason a rule's refusal is answered with; None for anything else (the staff
    guard's audit tells refused from failed with it)."""
    if isinstance(exc, CommandRefused):
        return _HTTP_STATUS.get(exc.result, status.HTTP_422_UNPROCESSABLE_CONTENT), exc.message
    return None


def install(app: FastAPI, ctx: ServiceContext, registrar_of: RegistrarOf) -> None:
    """The app's one refusal mapping. registrar_of gives the registrar user a request's token stands for
    (None without one), so that its refusals are published and scored."""

    async def render(request: Request, exc: CommandRefused, errors: list[FieldError], body: Any = None) -> JSONResponse:
        exc = await _published(ctx, request, exc, registrar_of, body)
        code, _ = http_refusal(exc) or (status.HTTP_422_UNPROCESSABLE_CONTENT, "")
        if not errors and exc.element:
            errors = [FieldError(field=exc.element, message=exc.message)]
        answer = ErrorBody(result_code=int(exc.result), message=exc.message, reference=exc.reference, errors=errors)
        retry_after = getattr(exc, "retry_after_seconds", None)
        return JSONResponse(answer.model_dump(mode="json"), status_code=code,
                            headers={"Retry-After": str(retry_after)} if retry_after else None)

    async def on_refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CommandRefused)
        return await render(request, exc, [])

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [FieldError(field=field_name(e.get("loc", ())), message=in_words(e), kind=kind, params=params)
                  for e in exc.errors() for kind, params in [kind_of(e)]]
        missing = all(e.get("type") == "missing" for e in exc.errors())
        message = "; ".join(f"{e.field} {e.message}" for e in errors[:5]) or "invalid request"
        if len(errors) > 5:
            message += f"; and {len(errors) - 5} more"
        result = Result.REQUIRED_PARAMETER_MISSING if missing and errors else Result.PARAMETER_VALUE_SYNTAX
        return await render(request, CommandRefused(result, message), errors, exc.body)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        result = _RESULT_OF_STATUS.get(exc.status_code,
                                       Result.COMMAND_FAILED if exc.status_code >= 500 else Result.COMMAND_SYNTAX)
        body = ErrorBody(result_code=int(result), message=str(exc.detail))
        return JSONResponse(body.model_dump(mode="json"), status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(CommandRefused, on_refused)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http)


async def _published(ctx: ServiceContext, request: Request, exc: CommandRefused, registrar_of: RegistrarOf,
                     body: Any) -> CommandRefused:
    """Publish a refusal the command layer did not see (input validation, a route's own check) for the
    registrar that sent it; returns the refusal that stands (a blocked registrar is refused as blocked)."""
    if exc.published:
        return exc
    route = request.scope.get("route")
    command = command_of(request.method, getattr(route, "path", ""))
    if command is None:
        return exc
    actor = await registrar_of(request)
    if actor is None:
        return exc
    obj = next((str(request.path_params[k]) for k in _OBJECT_KEYS if k in request.path_params), None) \
        or _body_object(body) or actor.registrar_id
    scored = Actor(actor.registrar_id, actor.user_id, actor.channel, actor.correlation_id, actor.permissions,
                   reference=new_reference(Channel.WEB))
    try:
        return await report_refusal(ctx, scored, command, obj, exc)
    except Exception:  # the answer matters more than the report; the log keeps it
        log.exception("could not publish command.failed", extra={"command": command.value})
        return exc


def _body_object(body: Any) -> str | None:
    """The name or alias a JSON form gives, when it gives one as text."""
    if isinstance(body, dict):
        for key in _OBJECT_KEYS:
            if isinstance(body.get(key), str):
                return str(body[key])[:255]
    return None
