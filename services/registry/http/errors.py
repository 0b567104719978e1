"""The one refusal mapping of the HTTP API: a command's refusal (CommandRefused, from any route) becomes the
HTTP status its EPP result code calls for, with the code and message in the body."""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.registry.results import CommandRefused, Result

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


def http_status(result: Result) -> int:
    return _HTTP_STATUS.get(result, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommandRefused)
    retry_after = getattr(exc, "retry_after_seconds", None)
    return JSONResponse(
        status_code=http_status(exc.result),
        content={"detail": {"result_code": int(exc.result), "message": exc.message}},
        headers={"Retry-After": str(retry_after)} if retry_after else None,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(CommandRefused, refused)
