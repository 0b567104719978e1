"""The Domain Availability Service answer (pure; digest 7.4): a status and a return code.

    RC 0  the query was answered: Status AVAILABLE, NOT AVAILABLE or NOT ALLOWED
    RC -1 internal error          RC -2 excessive querying: blocked for the rest of the minute
    RC -3 this address is blocked
"""

from __future__ import annotations

HEADER = "% .be Domain Availability Server\n%\n"
OK, INTERNAL_ERROR, EXCESSIVE, BLOCKED = 0, -1, -2, -3
MESSAGES = {INTERNAL_ERROR: "internal error, try again later",
            EXCESSIVE: "excessive querying: blocked for the rest of the minute",
            BLOCKED: "your address is blocked"}


def answer(name: str, status: str) -> str:
    """status: AVAILABLE | NOT AVAILABLE | NOT ALLOWED"""
    return f"{HEADER}RC: {OK}\nDomain: {name}\nStatus: {status}\n"


def refusal(code: int, detail: str | None = None) -> str:
    """detail: what went wrong, in words, when it is more than the code's message (a refused PROXY header)."""
    return f"{HEADER}RC: {code}\nError: {detail or MESSAGES[code]}\n"
