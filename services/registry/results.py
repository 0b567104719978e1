"""EPP result codes (RFC 5730 §3) used by registry commands, and the refusal every command raises."""

from __future__ import annotations

from enum import IntEnum


class Result(IntEnum):
    OK = 1000
    BILLING_FAILURE = 2104
    AUTHENTICATION_ERROR = 2200
    AUTHORIZATION_ERROR = 2201
    INVALID_AUTHORIZATION_INFO = 2202
    PARAMETER_VALUE_RANGE = 2004
    PARAMETER_VALUE_SYNTAX = 2005
    OBJECT_EXISTS = 2302
    OBJECT_DOES_NOT_EXIST = 2303
    STATUS_PROHIBITS = 2304
    ASSOCIATION_PROHIBITS = 2305
    PARAMETER_VALUE_POLICY = 2306
    DATA_MANAGEMENT_POLICY = 2308


class CommandRefused(Exception):
    """A business refusal: changes nothing, is reported to the caller and published as command.failed."""

    def __init__(self, result: Result, message: str, cause: str | None = None) -> None:
        super().__init__(f"{int(result)} {message}")
        self.result = result
        self.message = message
        # set when the refusal is about the registrar's standing, not the command (see CommandFailed.cause)
        self.cause = cause
