"""How a service process is put together.

A service declares a ServiceSpec (its name, the events it handles and publishes, its HTTP routes and
start-up work); `create_app` turns it into one ASGI app that
  - connects to MongoDB and RabbitMQ (retried with back-off), creates indexes, declares its queues;
  - consumes its queue through EventConsumer (exactly-once effects) and relays its outbox;
  - serves /health/live, /health/ready, /metrics, /asyncapi (+ /asyncapi.json) and the service's API.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from faststream.rabbit import Channel, RabbitBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared import openapi
from shared.auth import KeySource, SessionAuth, key_source
from shared.clock import Clock, SystemClock
from shared.events import EventPayload, envelope_model
from shared.events.sessions import SessionRevoked
from shared.messaging.consumer import EventConsumer, Handlers, routing_keys
from shared.messaging.publisher import EventPublisher
from shared.messaging.topology import Topology, declare_exchanges, declare_queues
from shared.mongo.client import Document, connect
from shared.mongo.idempotency import PROCESSED_INDEXES, ProcessedEvents
from shared.mongo.indexes import CollectionIndexes, ensure_indexes
from shared.mongo.outbox import OUTBOX_INDEXES, Outbox, OutboxRelay
from shared.observability.logging import configure_logging, correlation
from shared.observability.metrics import ServiceMetrics
from shared.observability.tracing import span, tracer_provider
from shared.probes import AsyncApiDocument, Liveness, Readiness
from shared.retry import connect_retrying
from shared.revocation import REVOCATION_INDEXES, RevokedSessions
from shared.settings import DEFAULT_INTERNAL_SECRET, ProductionRefused, ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """What a running service has at hand; built at start-up, passed to the service's hooks."""

    settings: ServiceSettings
    clock: Clock
    metrics: ServiceMetrics
    broker: RabbitBroker
    topology: Topology
    publisher: EventPublisher
    tracer_provider: TracerProvider
    tracer: Tracer
    # verifies the registry's session tokens (its JWKS) and refuses revoked sessions (shared/auth.py)
    session_auth: SessionAuth
    client: AsyncMongoClient[Document] = field(init=False)
    db: AsyncDatabase[Document] = field(init=False)
    outbox: Outbox = field(init=False)
    relay: OutboxRelay | None = None
    consumer: EventConsumer | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def committed(self) -> None:
        """Tell the relay that a transaction wrote to the outbox."""
        if self.relay is not None:
            self.relay.wake()


@dataclass
class ServiceSpec:
    name: str
    settings: ServiceSettings
    description: str
    publishes: Sequence[type[EventPayload]] = ()
    # the events this service consumes, with their handlers; built once the database is connected
    handlers: Callable[[ServiceContext], Handlers] | None = None
    indexes: Sequence[CollectionIndexes] = ()
    routers: Sequence[Callable[[ServiceContext], APIRouter]] = ()
    on_startup: Sequence[Callable[[ServiceContext], Awaitable[None]]] = ()
    # run as soon as the database is connected, before the indexes and everything else touch it
    on_connect: Sequence[Callable[[ServiceContext], Awaitable[None]]] = ()
    # run first at shutdown, before the relay, broker and database close (stop background work here)
    on_shutdown: Sequence[Callable[[ServiceContext], Awaitable[None]]] = ()
    clock: Clock = field(default_factory=SystemClock)
    # the service accepts the registry's session tokens: it consumes session.revoked into its deny-list
    verifies_sessions: bool = False
    # the keys session tokens are checked with; None: the registry's JWKS (JWKS_URL). The registry gives its own.
    session_keys: KeySource | None = None


def create_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    configure_logging(spec.name, settings.log_level, settings.log_format)
    try:
        settings.refuse_development_values()
    except ProductionRefused as refused:
        log.critical("%s", refused)
        raise
    metrics = ServiceMetrics(spec.name)
    broker = RabbitBroker(
        settings.amqp_url,
        app_id=spec.name,
        # reconnects are aio-pika's (robust connection); start-up waits are ours (connect_retrying)
        fail_fast=True,
        # no FastStream metrics middleware: events are published (shared/messaging/publisher.py) and consumed
        # (shared/messaging/consumer.py) outside FastStream, and counted by the platform's own metrics
        logger=logging.getLogger(f"{spec.name}.broker"),
        default_channel=Channel(prefetch_count=settings.prefetch_count),
    )
    topology = Topology.for_service(settings)
    provider = tracer_provider(spec.name, settings.otel_exporter_otlp_endpoint)
    revoked = RevokedSessions(lambda: ctx.db)
    ctx = ServiceContext(
        session_auth=SessionAuth(spec.session_keys or key_source(settings.jwks_url, settings.jwks_cache_seconds),
                                 spec.clock,
                                 revoked if spec.verifies_sessions else None),
        settings=settings,
        clock=spec.clock,
        metrics=metrics,
        broker=broker,
        topology=topology,
        tracer_provider=provider,
        tracer=provider.get_tracer("registry-platform"),
        publisher=EventPublisher(broker, topology.events_exchange, user_id=settings.amqp_user, app_id=spec.name),
    )
    for payload in spec.publishes:  # documentation of what the relay publishes, for AsyncAPI
        broker.publisher(
            exchange=topology.events_exchange,
            routing_key=payload.event_type,
            title=f"{payload.event_type}:publish",
            description=(payload.__doc__ or "").strip(),
            schema=envelope_model(payload),
            persist=True,
        )
    asyncapi = AsyncAPI(broker, title=f"{spec.name} events", version="1.0.0", description=spec.description)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await _start(spec, ctx)
        except BaseException:
            log.exception("%s could not start", spec.name)
            await _close(ctx)
            raise
        relay_task = asyncio.create_task(ctx.relay.run(), name="outbox-relay") if ctx.relay else None
        # the start-up heap (modules, the app, its models: most of the process's objects) is left out of the
        # collector's full collections from now on: each stopped the event loop for 50-150 ms every minute or so,
        # the tail of every latency (bench/bench_hitpoints.py's block latency); with it frozen, one takes 1-3 ms
        gc.freeze()
        app.state.ready = True
        log.info("%s started", spec.name, extra={"http_port": settings.http_port})
        if settings.internal_secret.get_secret_value() == DEFAULT_INTERNAL_SECRET:
            log.warning("INTERNAL_SECRET is the local development default: set your own outside a laptop "
                        "(it seals transfer codes and verification links)")
        try:
            yield
        finally:
            app.state.ready = False
            gc.unfreeze()  # a process that starts apps again (the tests) lets a stopped one's objects be collected
            for hook in spec.on_shutdown:
                await hook(ctx)
            if ctx.relay is not None and relay_task is not None:
                await ctx.relay.stop()
                relay_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay_task
            await _close(ctx)
            provider.shutdown()  # exports the spans still batched
            log.info("%s stopped", spec.name)

    app = FastAPI(title=f"{spec.name} service", description=spec.description, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.ready = False

    @app.middleware("http")
    async def correlation_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Correlation id, the request's server span (continuing a caller's traceparent) and the access log."""
        cid = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        request.state.correlation_id = cid
        started = time.perf_counter()
        status = 500
        with correlation(cid), span(ctx.tracer, request.method, SpanKind.SERVER, parent=dict(request.headers),
                                    **{"http.request.method": request.method}) as server:
            try:
                response = await call_next(request)
                status = response.status_code
            finally:
                route = _route_of(request)
                server.update_name(f"{request.method} {route}")
                server.set_attributes({"http.route": route, "http.response.status_code": status})
                _access_log(request, route, status, started)
        response.headers["x-correlation-id"] = cid
        return response

    @app.get("/health/live", tags=["operations"], response_model=Liveness)
    async def live() -> dict[str, str]:
        """The process answers (the liveness probe): nothing else is checked."""
        return {"status": "alive"}

    @app.get("/health/ready", tags=["operations"], response_model=Readiness,
             responses={503: {"model": Readiness, "description": "a check failed: take no traffic"}})
    async def ready() -> JSONResponse:
        """Whether the service takes traffic (the readiness probe): started, broker and database answering."""
        checks = {"broker": False, "database": False, "started": bool(app.state.ready)}
        if app.state.ready:
            with contextlib.suppress(Exception):
                checks["broker"] = bool(await broker.ping(timeout=2))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ctx.client.admin.command("ping"), timeout=2)
                checks["database"] = True
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics_endpoint() -> Response:
        """Prometheus metrics in the text exposition format."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["operations"], response_model=AsyncApiDocument)
    async def asyncapi_json() -> JSONResponse:
        """The AsyncAPI document of the events this service publishes and consumes."""
        return JSONResponse(asyncapi.to_specification().to_jsonable())

    @app.get("/asyncapi", tags=["operations"], response_class=HTMLResponse)
    async def asyncapi_html() -> str:
        """The AsyncAPI document as a page to read."""
        return get_asyncapi_html(asyncapi.to_specification(), try_it_out_path=None)

    # routers need the context, which exists now; their handlers use it only once started
    for make_router in spec.routers:
        app.include_router(make_router(ctx))
    # http_requests_total{handler,method,status}, http_request_duration_seconds{handler,method}, ...: per
    # route template (never the raw path: verification links carry tokens), into the service's registry
    Instrumentator(should_group_status_codes=False, excluded_handlers=["/metrics"],
                   registry=metrics.registry).instrument(app)
    openapi.install(app)  # registrar or staff tokens told apart (the registry replaces it with its own)
    return app


ACCESS = logging.getLogger("access")
_QUIET_ROUTES = ("/health/live", "/health/ready", "/metrics")  # probes and scrapes: DEBUG, not INFO


def _route_of(request: Request) -> str:
    """The matched route's template (`/verify/{token}`): the raw path may carry secrets."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def _access_log(request: Request, route: str, status: int, started: float) -> None:
    level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
    if not ACCESS.isEnabledFor(level):
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    ACCESS.log(level, "%s %s %s %.1f ms", request.method, route, status, duration_ms, extra={
        "http_method": request.method, "http_route": route, "http_status": status, "duration_ms": duration_ms,
        "client": request.client.host if request.client else None,
    })


async def _start(spec: ServiceSpec, ctx: ServiceContext) -> None:
    settings = ctx.settings
    ctx.client = await connect(settings)
    ctx.db = ctx.client[settings.database_name]
    ctx.outbox = Outbox(ctx.db)
    for hook in spec.on_connect:
        await hook(ctx)
    revocations = REVOCATION_INDEXES if spec.verifies_sessions else ()
    await ensure_indexes(ctx.db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *revocations, *spec.indexes])

    handlers = dict(spec.handlers(ctx)) if spec.handlers else {}
    if spec.verifies_sessions:
        handlers[SessionRevoked] = RevokedSessions(lambda: ctx.db).apply
    if handlers:
        ctx.consumer = EventConsumer(
            spec.name,
            handlers,
            ProcessedEvents(ctx.client, ctx.db, timedelta(days=settings.processed_event_ttl_days)),
            ctx.metrics,
            max_batch=settings.consume_batch_size,
            on_applied=ctx.committed,
            tracer=ctx.tracer,
            publishers=settings.event_publishers,
        )

    async for attempt in connect_retrying("RabbitMQ", settings.connect_timeout_seconds):
        with attempt:
            await ctx.broker.connect()
    await declare_exchanges(ctx.broker, ctx.topology)
    if handlers:
        await declare_queues(ctx.broker, ctx.topology, routing_keys(handlers))
    await ctx.broker.start()
    if ctx.consumer is not None:
        await _consume(ctx, ctx.consumer)

    if spec.publishes:
        ctx.relay = OutboxRelay(
            ctx.db,
            ctx.publisher,
            ctx.metrics,
            owner=f"{settings.instance_id}:{os.getpid()}",
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            lease_seconds=settings.outbox_lease_seconds,
            tracer=ctx.tracer,
        )
    for hook in spec.on_startup:
        await hook(ctx)


async def _consume(ctx: ServiceContext, consumer: EventConsumer) -> None:
    """The service's queue on a channel of its own (not FastStream's, whose publishes wait for confirms):
    PREFETCH_COUNT deliveries in flight, taken CONSUME_BATCH_SIZE at a time (shared/messaging/consumer.py)."""
    channel = await ctx.broker.config.channel_manager.get_channel(
        Channel(prefetch_count=ctx.settings.prefetch_count, publisher_confirms=False))
    await consumer.start(await channel.declare_queue(ctx.topology.queue.name, passive=True))
    # the subscription in the service's AsyncAPI document: registered on the broker after it started, so FastStream
    # documents it but never consumes with it
    ctx.broker.subscriber(ctx.topology.queue, title=f"{ctx.settings.queue_name}:consume",
                          description="handles: " + ", ".join(sorted(routing_keys(consumer.handlers))))(_documented)


async def _documented(body: bytes) -> None:
    """The AsyncAPI entry of the events queue (shared/messaging/consumer.py consumes it)."""


async def _close(ctx: ServiceContext) -> None:
    """Release what was opened, in reverse order; safe after a start that failed half-way."""
    await ctx.broker.stop()
    if ctx.consumer is not None:
        await ctx.consumer.close()
    if hasattr(ctx, "client"):
        await ctx.client.close()


def serve(app: FastAPI, settings: ServiceSettings, proxy_headers: bool = True) -> None:
    """Run one service process (python -m services.<name>). The app sees the client that X-Forwarded-For names
    when the peer is in FORWARDED_ALLOW_IPS; proxy_headers=False: always the TCP peer (a service that reads the
    header itself)."""
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
                proxy_headers=proxy_headers, forwarded_allow_ips=settings.forwarded_allow_ips)
