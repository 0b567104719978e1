"""The answers of a sign-in in two steps (users/pending.py), for users (http/auth.py) and staff (http/staff.py):
a right password of an account with 2-step answers 401 with `two_step_required` and the pending token; a code
step whose token is unknown, used or expired answers 401 with `sign_in_again`."""

from __future__ import annotations

from datetime import datetime

from fastapi import status
from fastapi.responses import JSONResponse

from services.registry.http.views import LoginRefused
from services.registry.results import Result
from services.registry.users.pending import Pending


def two_step_required(message: str, pending: Pending, now: datetime) -> JSONResponse:
    """The password step's answer for an account with 2-step: 401, the flag, and the pending token."""
    body = LoginRefused(result_code=int(Result.AUTHENTICATION_ERROR), message=message, two_step_required=True,
                        pending=pending.token, pending_expires_in=pending.seconds_left(now))
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_401_UNAUTHORIZED,
                        headers={"Cache-Control": "no-store"})


def sign_in_again(message: str) -> JSONResponse:
    body = LoginRefused(result_code=int(Result.AUTHENTICATION_ERROR), message=message, sign_in_again=True)
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_401_UNAUTHORIZED)
