"""WHOIS (RFC 3912) and DAS over TCP: one query line in, one answer out, then the server closes.

The line is read with a size cap and a deadline; a line too long, not UTF-8 or holding control bytes gets an
error line, never a crash; a client that sends nothing is dropped at the deadline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
MAX_LINE = 512
READ_SECONDS = 10.0

Answer = Callable[[str, str], Awaitable[str]]  # (query, client address) -> answer text
Refuse = Callable[[str], str]  # reason -> error text


async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: Answer,
                     refuse: Refuse) -> None:
    address = (writer.get_extra_info("peername") or ("?",))[0]
    try:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n"), READ_SECONDS)
        except asyncio.LimitOverrunError:
            text = refuse(f"query longer than {MAX_LINE} bytes")
        except asyncio.IncompleteReadError as exc:  # closed its side without a line end: take what came
            text = await _answer(exc.partial, address, answer, refuse) if exc.partial else ""
        else:
            text = await _answer(raw, address, answer, refuse)
        if text:
            writer.write(text.replace("\n", "\r\n").encode("utf-8"))
            await writer.drain()
    except (TimeoutError, ConnectionError):
        pass
    except Exception:
        log.exception("answering %s failed", address)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _answer(raw: bytes, address: str, answer: Answer, refuse: Refuse) -> str:
    line = raw.rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        return refuse(f"query longer than {MAX_LINE} bytes")
    try:
        query = line.decode("utf-8")
    except UnicodeDecodeError:
        return refuse("the query is not UTF-8 text")
    if any(ord(c) < 0x20 and c != "\t" for c in query):
        return refuse("the query holds control characters")
    return await answer(query, address)


async def start_server(host: str, port: int, answer: Answer, refuse: Refuse) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_one(reader, writer, answer, refuse)

    return await asyncio.start_server(handle, host, port, limit=MAX_LINE)
