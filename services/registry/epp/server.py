"""The EPP server: TCP with TLS (RFC 5734), a greeting on connect, then one response per frame until
logout, an idle timeout, a broken frame or a closing error.

Each accepted TCP connection stops reading at once and is upgraded to TLS by this code, so that a failed
handshake is counted and logged here (asyncio's own TLS listener only debug-logs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import time
import uuid
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from services.registry.epp.admission import WriteTurns
from services.registry.epp.dispatch import Dispatcher
from services.registry.epp.frames import FrameError, frame, read_frame
from services.registry.epp.session import EppSession
from services.registry.epp.tls import development_certificate, server_context
from services.registry.epp.xml import response
from services.registry.registrars.epp_limits import RateLimiter, SessionTable
from services.registry.settings import RegistrySettings
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)
HANDSHAKE_SECONDS = 10.0


class EppMetrics:
    def __init__(self, ctx: ServiceContext) -> None:
        registry = ctx.metrics.registry
        self.sessions = Gauge("epp_sessions_open", "EPP connections open (logged in or not)", registry=registry)
        self.logged_in = Gauge("epp_sessions_logged_in", "EPP sessions logged in", registry=registry)
        self.commands = Counter("epp_commands", "EPP commands by command and result code",
                                ["command", "result_code"], registry=registry)
        self.latency = Histogram("epp_command_seconds", "EPP command time from frame read to response written",
                                 ["command"], registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.handshake_failures = Counter("epp_tls_handshake_failures", "TLS handshakes that failed or timed out",
                                          registry=registry)
        self.frames_rejected = Counter("epp_frames_rejected", "Frames refused before parsing", ["reason"],
                                       registry=registry)


class _AwaitingTls(asyncio.Protocol):
    """Holds a new connection unread (the client's hello stays in the socket) until TLS takes it over."""

    def __init__(self, server: EppServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        task = asyncio.get_running_loop().create_task(self.server._upgrade(transport))
        self.server.connections.add(task)
        task.add_done_callback(self.server.connections.discard)


def peer_ip(writer: asyncio.StreamWriter) -> str:
    host = (writer.get_extra_info("peername") or ("unknown",))[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(host)
    # an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; registrars list the IPv4 form
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


class EppServer:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
        self.metrics = EppMetrics(ctx)
        # counted in MongoDB: every replica sees the same sessions and commands (registrars/epp_limits.py)
        self.sessions = SessionTable(ctx.db, self.settings.epp_max_sessions_per_registrar,
                                     f"{self.settings.instance_id}:{uuid.uuid4().hex[:8]}",
                                     self.settings.epp_session_lease_seconds)
        self.dispatcher = Dispatcher(ctx, self.sessions, RateLimiter(ctx.db, self.settings.epp_rate_limits),
                                     self.settings.epp_server_id, prefix=self.settings.instance_id[:24] or "epp",
                                     write_turns=WriteTurns(self.settings.epp_writes_in_flight))
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task[None]] = set()
        self.renewing: asyncio.Task[None] | None = None

    def tls_context(self) -> ssl.SSLContext:
        s = self.settings
        if s.epp_cert_file:
            return server_context(Path(s.epp_cert_file), Path(s.epp_key_file or s.epp_cert_file))
        return server_context(*development_certificate(Path(s.epp_cert_dir)))

    async def start(self) -> int:
        self.tls = self.tls_context()
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _AwaitingTls(self), self.settings.epp_host,
                                               self.settings.epp_port)
        port = self.server.sockets[0].getsockname()[1]
        self.renewing = asyncio.create_task(self._renew_slots(), name="epp-session-slots")
        log.info("EPP server listening on %s:%d (TLS)", self.settings.epp_host, port)
        return int(port)

    async def _renew_slots(self) -> None:
        while True:
            await asyncio.sleep(self.settings.epp_session_lease_seconds / 3)
            try:
                await self.sessions.renew()
            except Exception:  # the database blipped: the next round renews; a lease is three rounds long
                log.warning("could not renew the EPP session slots", exc_info=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.renewing is not None:
            self.renewing.cancel()
        for task in list(self.connections):
            task.cancel()
        for task in list(self.connections):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.sessions.release_all()  # what the cancelled sessions could not free themselves
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            tls_transport = await loop.start_tls(transport, protocol, self.tls, server_side=True,
                                                 ssl_handshake_timeout=HANDSHAKE_SECONDS)
        except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
            self.metrics.handshake_failures.inc()
            log.info("EPP TLS handshake failed from %s: %s", (transport.get_extra_info("peername") or ("?",))[0],
                     exc or type(exc).__name__)
            transport.abort()
            return
        assert tls_transport is not None  # start_tls returns it or raises
        protocol.connection_made(tls_transport)
        await self._accept(reader, asyncio.StreamWriter(tls_transport, protocol, reader, loop))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        self.metrics.sessions.inc()
        session = EppSession(peer_ip=peer_ip(writer))
        try:
            await self._serve(session, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away
        finally:
            if session.logged_in:
                self.metrics.logged_in.dec()
            with contextlib.suppress(Exception):
                await self.sessions.release(session.session_id)
            self.metrics.sessions.dec()
            self.connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 2)

    async def _serve(self, session: EppSession, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(self.dispatcher.greeting()))
        await writer.drain()
        while True:
            try:
                # a timeout scope, not wait_for: wait_for runs the read as a task of its own, one more turn of the
                # event loop (behind every other session's work) for each command
                async with asyncio.timeout(self.settings.epp_idle_timeout_seconds):
                    data = await read_frame(reader, self.settings.epp_max_frame_bytes)
            except TimeoutError:
                log.info("EPP session of %s idle: closed", session.registrar_id or session.peer_ip)
                return
            except FrameError as exc:
                # the stream can no longer be trusted to be in step: answer once, then close
                self.metrics.frames_rejected.labels(exc.reason).inc()
                writer.write(frame(response(2001, f"Command syntax error: {exc}", None, self.dispatcher.sv_trid())))
                await writer.drain()
                return
            started = time.perf_counter()
            was_logged_in = session.logged_in
            answer = await self.dispatcher.handle(session, data)
            writer.write(frame(answer.data))
            await writer.drain()
            self.metrics.commands.labels(answer.command, str(answer.code)).inc()
            self.metrics.latency.labels(answer.command).observe(time.perf_counter() - started)
            if session.logged_in and not was_logged_in:
                self.metrics.logged_in.inc()
            if answer.close:
                return


async def start_epp(ctx: ServiceContext) -> None:
    settings: RegistrySettings = ctx.settings  # type: ignore[assignment]
    if not settings.epp_enabled:
        return
    server = EppServer(ctx)
    ctx.extras["epp_server"] = server
    ctx.extras["epp_port"] = await server.start()


async def stop_epp(ctx: ServiceContext) -> None:
    server = ctx.extras.get("epp_server")
    if server is not None:
        await server.stop()
    client = ctx.extras.pop("poll_client", None)
    if client is not None:
        await client.close()
