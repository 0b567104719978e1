from fastapi import HTTPException, status

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


def refusal(exc: CommandRefused) -> HTTPException:
    retry_after = getattr(exc, "retry_after_seconds", None)
    return HTTPException(
        status_code=_HTTP_STATUS.get(exc.result, status.HTTP_422_UNPROCESSABLE_CONTENT),
        detail={"result_code": int(exc.result), "message": exc.message},
        headers={"Retry-After": str(retry_after)} if retry_after else None,
    )
