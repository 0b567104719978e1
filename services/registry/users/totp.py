"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) for 2-step login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime

STEP_SECONDS = 30


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret: str, instant: datetime) -> str:
    counter = int(instant.timestamp()) // STEP_SECONDS
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def verify(secret: str, code: str, instant: datetime, window: int = 1) -> bool:
    """Accept the current step and `window` steps either side (clock drift of the user's device)."""
    from datetime import timedelta

    return any(
        hmac.compare_digest(code_at(secret, instant + timedelta(seconds=STEP_SECONDS * d)), code)
        for d in range(-window, window + 1)
    )
