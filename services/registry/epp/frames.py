"""RFC 5734 framing: each EPP message is preceded by a 4-byte big-endian length that counts itself."""

from __future__ import annotations

import asyncio
import struct

HEADER = struct.Struct(">I")


class FrameError(Exception):
    """The peer broke the framing (a length below the header size or above the limit): close the connection.
    reason is the metric label: "short" or "oversize"."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    """One message; raises asyncio.IncompleteReadError when the peer closed, FrameError on a bad length."""
    (total,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    if total <= HEADER.size:
        raise FrameError(f"frame length {total} is not above the header size", "short")
    if total - HEADER.size > max_bytes:
        raise FrameError(f"frame of {total - HEADER.size} bytes exceeds the limit of {max_bytes}", "oversize")
    return await reader.readexactly(total - HEADER.size)


def frame(data: bytes) -> bytes:
    return HEADER.pack(len(data) + HEADER.size) + data
