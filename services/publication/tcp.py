"""WHOIS (RFC 3912) and DAS over TCP: one query line in, one answer out, then the server closes.

The line is read with a size cap and a deadline; a line too long, not UTF-8 or holding control bytes gets an
error line, never a crash; a client that sends nothing is dropped at the deadline.

Behind a TCP load balancer (compose, k8s) every connection comes from the balancer: the balancer starts each one
with a PROXY protocol header (proxyproto.py) naming the client, and the rate limit counts that client. The header
is believed only from `trusted` (WHOIS_TRUSTED_PROXIES; empty, the default: never). From a trusted proxy it is
required: a connection without one is refused with an error line, because counting it under the balancer's
address would put every client in one rate limit (a balancer not set up to send the header shows at once). From
anyone else a header is refused with an error line too (a client must not choose the address it is counted
under)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from services.publication import proxyproto
from services.publication.ratelimit import Network, trusted

log = logging.getLogger(__name__)
MAX_LINE = 512
READ_SECONDS = 10.0
CHUNK = 4096
LINGER_SECONDS = 1.0  # after a refusal: read what the client still sends, so that closing does not reset the error

Answer = Callable[[str, str], Awaitable[str]]  # (query, client address) -> answer text
Refuse = Callable[[str], str]  # reason -> error text


class Refused(Exception):
    """The connection gets an error line with this reason, and nothing else."""


class Incoming:
    """What the client sent so far, read in chunks (the PROXY header and the query may come in one)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buf = bytearray()

    async def more(self) -> bool:
        chunk = await self.reader.read(CHUNK)
        self.buf += chunk
        return bool(chunk)

    async def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self.more():
                raise Refused("the connection closed inside the PROXY header")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def line(self) -> bytes:
        """Up to and with the first line end; what came before the client closed its side when it sent none."""
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > MAX_LINE:
                raise Refused(f"query longer than {MAX_LINE} bytes")
            if not await self.more():
                end = len(self.buf) - 1
                break
        out = bytes(self.buf[:end + 1])
        del self.buf[:end + 1]
        return out


async def _header_kind(incoming: Incoming) -> str | None:
    """v1, v2 or None. Reads while the start is still a prefix of a signature; a complete line ends the wait (an
    empty query "\\r\\n" is also the start of the v2 signature)."""
    while (kind := proxyproto.kind(bytes(incoming.buf[:16]))) == "more" and not incoming.buf.endswith(b"\n"):
        if not await incoming.more():
            break
    return None if kind == "more" else kind


async def _header(incoming: Incoming, kind: str) -> proxyproto.Source:
    if kind == "v1":
        while (end := incoming.buf.find(b"\n", 0, proxyproto.V1_MAX)) < 0:
            if len(incoming.buf) >= proxyproto.V1_MAX:
                raise Refused(f"PROXY header longer than {proxyproto.V1_MAX} bytes")
            if not await incoming.more():
                raise Refused("the connection closed inside the PROXY header")
        return proxyproto.parse_v1(await incoming.take(end + 1))
    fixed = await incoming.take(proxyproto.V2_FIXED)
    return proxyproto.parse_v2(fixed, await incoming.take(proxyproto.v2_body_length(fixed)))


async def client_and_query(incoming: Incoming, peer: str, proxies: Sequence[Network]) -> tuple[str, bytes]:
    """The address the query counts under, and the query line as received."""
    kind = await _header_kind(incoming)
    if not incoming.buf:
        return peer, b""  # closed without a byte (a balancer's TCP health check): nothing to answer or refuse
    from_proxy = bool(proxies) and trusted(peer, proxies)
    address = peer
    if kind is not None:
        if not from_proxy:
            raise Refused("a PROXY protocol header is accepted only from a trusted proxy")
        try:
            address = (await _header(incoming, kind)).address or peer
        except proxyproto.ProxyHeaderError as exc:
            log.warning("%s: from trusted proxy %s", exc, peer)
            raise Refused(str(exc)) from None
    elif from_proxy:
        log.warning("a connection from trusted proxy %s without a PROXY protocol header: refused", peer)
        raise Refused("a connection from a trusted proxy must start with a PROXY protocol header")
    return address, await incoming.line()


async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: Answer,
                     refuse: Refuse, proxies: Sequence[Network]) -> None:
    peer = (writer.get_extra_info("peername") or ("?",))[0]
    address = peer
    refused = False
    try:
        try:
            async with asyncio.timeout(READ_SECONDS):
                address, raw = await client_and_query(Incoming(reader), peer, proxies)
        except Refused as exc:
            refused = True
            text = refuse(str(exc))
        else:
            text = await _answer(raw, address, answer, refuse) if raw else ""
        if text:
            writer.write(text.replace("\n", "\r\n").encode("utf-8"))
            await writer.drain()
        if refused:
            await _linger(reader, writer)
    except (TimeoutError, ConnectionError):
        pass
    except Exception:
        log.exception("answering %s failed", address)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close our side, then read (and drop) what the client still sends for a moment: closing a socket with unread
    data resets the connection, and a reset can lose the error line on its way."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(LINGER_SECONDS):
            for _ in range(16):
                if not await reader.read(CHUNK):
                    break


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


async def start_server(host: str, port: int, answer: Answer, refuse: Refuse,
                       proxies: Sequence[Network] = ()) -> asyncio.Server:
    """proxies: the load balancers whose PROXY protocol header is believed (and required)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_one(reader, writer, answer, refuse, proxies)

    return await asyncio.start_server(handle, host, port, limit=CHUNK)
