"""EPP result codes (RFC 5730 §3) used by registry commands, and the refusal every command raises."""

from __future__ import annotations

from enum import IntEnum


class Result(IntEnum):
    OK = 1000
    OK_NO_MESSAGES = 1300
    OK_ACK_TO_DEQUEUE = 1301
    OK_ENDING_SESSION = 1500
    UNKNOWN_COMMAND = 2000
    COMMAND_SYNTAX = 2001
    COMMAND_USE = 2002
    REQUIRED_PARAMETER_MISSING = 2003
    UNIMPLEMENTED_COMMAND = 2101
    UNIMPLEMENTED_OPTION = 2102
    UNIMPLEMENTED_EXTENSION = 2103
    BILLING_FAILURE = 2104
    AUTHENTICATION_ERROR = 2200
    AUTHORIZATION_ERROR = 2201
    INVALID_AUTHORIZATION_INFO = 2202
    PARAMETER_VALUE_RANGE = 2004
    PARAMETER_VALUE_SYNTAX = 2005
    OBJECT_NOT_PENDING_TRANSFER = 2301
    OBJECT_EXISTS = 2302
    OBJECT_DOES_NOT_EXIST = 2303
    STATUS_PROHIBITS = 2304
    ASSOCIATION_PROHIBITS = 2305
    PARAMETER_VALUE_POLICY = 2306
    UNIMPLEMENTED_OBJECT_SERVICE = 2307
    DATA_MANAGEMENT_POLICY = 2308
    COMMAND_FAILED = 2400
    COMMAND_FAILED_CLOSING = 2500
    AUTHENTICATION_CLOSING = 2501
    SESSION_LIMIT = 2502


class CommandRefused(Exception):
    """A business refusal: changes nothing, is reported to the caller and published as command.failed."""

    def __init__(self, result: Result, message: str, cause: str | None = None, *, element: str | None = None,
                 value: str | None = None) -> None:
        super().__init__(f"{int(result)} {message}")
        self.result = result
        self.message = message
        # the offending input as the client named it (EPP "contact:voice", or a web form's field) and the
        # value it gave, when the refusal is about one element (RFC 5730 2.6 <value>/<extValue>)
        self.element = element
        self.value = value
        # set when the refusal is about the registrar's standing, not the command (see CommandFailed.cause)
        self.cause = cause
        # set once command.failed was published for it, so a transport that reports refusals raised before
        # the command layer (EPP's own checks) does not publish it twice
        self.published = False
        # the transaction reference it was published under (what the hitpoints screen lists)
        self.reference: str | None = None
