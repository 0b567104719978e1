"""What operators see: one trace from an HTTP request through the outbox and RabbitMQ into the consumer,
HTTP request metrics per route and status, JSON access logs with the trace id, and spans exported over
OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession

from services.hitpoints.app import build as build_hitpoints
from services.hitpoints.settings import HitpointsSettings
from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import DomainCreated, new_event
from shared.mongo.outbox import Outbox, OutboxRelay
from shared.mongo.transactions import in_transaction
from shared.observability.logging import JsonFormatter
from tests.integration.infra import eventually, free_port, login, running

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def spans_of(client: object) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    client._transport.app.state.ctx.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[attr-defined]
    return exporter


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """The access logger's lines as the service writes them (JSON, formatted in the request's context)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("registry"))
    logger = logging.getLogger("access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


async def test_one_trace_from_the_http_request_through_the_outbox_and_broker_into_the_consumer(
        namespace: str, access_log: io.StringIO) -> None:
    fast: dict[str, Any] = {"namespace": namespace, "outbox_poll_seconds": 0.05}
    async with running(build_reporting(ReportingSettings(**fast))) as reporting, \
            running(build_registry(RegistrySettings(seed_demo_registrar=True, epp_enabled=False, **fast))) as registry:
        registry_spans, reporting_spans = spans_of(registry), spans_of(reporting)
        auth = await login(registry)
        caller = {"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}
        created = await registry.post("/api/domains", json={"registrant": "a100001-demo", "name": "traced.be"},
                                      headers=auth | caller)
        assert created.status_code == 201, created.text

        def consumed() -> list:
            return [s for s in reporting_spans.get_finished_spans()
                    if s.name == "domain.created process" and s.context.trace_id == int(TRACE_ID, 16)]

        async def probe() -> list:
            return consumed()

        (consumer,) = await eventually(probe, bool)
        mine = [s for s in registry_spans.get_finished_spans() if s.context.trace_id == int(TRACE_ID, 16)]
        (server,) = [s for s in mine if s.kind is SpanKind.SERVER]
        assert server.name == "POST /api/domains" and server.parent and server.parent.span_id == int(CALLER_SPAN, 16)
        assert server.attributes and server.attributes["http.response.status_code"] == 201
        assert server.context
        # the consumer's span is the child of the span that wrote the event: the context crossed the outbox and
        # RabbitMQ
        assert consumer.kind is SpanKind.CONSUMER and consumer.parent.span_id == server.context.span_id
        # the relay's span of the batch that published it is linked to it (a root span of its own)
        (producer,) = [s for s in registry_spans.get_finished_spans() if s.name == "outbox publish"
                       and any(link.context.span_id == server.context.span_id for link in s.links)]
        assert producer.kind is SpanKind.PRODUCER and producer.parent is None and producer.attributes
        assert int(str(producer.attributes["messaging.batch.message_count"])) >= 1

        metrics = (await registry.get("/metrics")).text
        assert 'http_requests_total{handler="/api/domains",method="POST",status="201"} 1.0' in metrics
        assert 'http_request_duration_seconds_count{handler="/api/domains",method="POST"} 1.0' in metrics

    lines = [json.loads(line) for line in access_log.getvalue().splitlines()]
    (line,) = [x for x in lines if x.get("http_route") == "/api/domains"]
    assert line["logger"] == "access" and line["http_method"] == "POST" and line["http_status"] == 201
    assert line["trace_id"] == TRACE_ID and line["duration_ms"] >= 0 and "correlation_id" in line


async def test_an_event_written_outside_any_span_is_traced_from_the_relays_batch_span(namespace: str) -> None:
    """The relay passes each event's own context on; an event that has none (written outside any span) carries the
    context of the span of the batch that published it, so its consumer's span is that span's child."""
    reporting_app = build_reporting(ReportingSettings(namespace=namespace))
    async with running(reporting_app) as reporting:
        ctx = reporting_app.state.ctx
        exported = spans_of(reporting)
        db = ctx.client[f"{namespace}_publisher"]
        untraced, traced = (new_event(DomainCreated(name=name, tld="be", registered_at=datetime.now(UTC)),
                                      registrar_id="a100001", correlation_id=None, clock=SystemClock())
                            for name in ("untraced.be", "traced.be"))

        async def write(session: AsyncClientSession) -> None:
            await Outbox(db).add([untraced], session)
            with ctx.tracer.start_as_current_span("command") as command:
                await Outbox(db).add([traced], session)
                written.append(command)

        written: list[Span] = []
        await in_transaction(ctx.client, write)
        relay = OutboxRelay(db, ctx.publisher, ctx.metrics, owner="test", tracer=ctx.tracer)
        assert await relay.lease.acquire() and await relay.relay_all() == 2

        async def processed() -> dict[str, Any]:
            return {str((s.attributes or {})["messaging.message.id"]): s for s in exported.get_finished_spans()
                    if s.name == "domain.created process"}

        consumed = await eventually(processed, lambda spans: len(spans) == 2)
        (batch,) = [s for s in exported.get_finished_spans() if s.name == "outbox publish"]
        assert batch.attributes and batch.attributes["messaging.batch.message_count"] == 2
        assert [link.context.span_id for link in batch.links] == [written[0].get_span_context().span_id]
        assert consumed[str(untraced.event_id)].parent.span_id == batch.context.span_id
        assert consumed[str(traced.event_id)].parent.span_id == written[0].get_span_context().span_id


async def test_the_access_log_names_the_route_template_never_the_path(namespace: str, access_log: io.StringIO) -> None:
    """Verification links carry their token in the path; the log and the metrics keep the template only."""
    async with running(build_hitpoints(HitpointsSettings(namespace=namespace))) as hitpoints:
        await hitpoints.get("/api/operator/hitpoints/secret-in-the-path-123")
        metrics = (await hitpoints.get("/metrics")).text
    assert "secret-in-the-path-123" not in access_log.getvalue() + metrics
    assert '"http_route": "/api/operator/hitpoints/{registrar_id}"' in access_log.getvalue()


class _Collector(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.path == "/v1/traces":
            self.received.append(ExportTraceServiceRequest.FromString(body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def test_spans_are_exported_over_otlp_only_when_an_endpoint_is_set(namespace: str) -> None:
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Collector.received = []
    try:
        async with running(build_hitpoints(HitpointsSettings(namespace=namespace))) as quiet:
            await quiet.get("/health/live")
        assert _Collector.received == []  # off by default
        settings = HitpointsSettings(namespace=namespace, otel_exporter_otlp_endpoint=f"http://127.0.0.1:{port}")
        async with running(build_hitpoints(settings)) as hitpoints:
            await hitpoints.get("/health/live")
        # leaving the service shut its provider down, which exports the batched spans
        await asyncio.sleep(0)
        names = {(span.name, service)
                 for request in _Collector.received for resource in request.resource_spans
                 for service in [a.value.string_value for a in resource.resource.attributes if a.key == "service.name"]
                 for scope in resource.scope_spans for span in scope.spans}
        assert ("GET /health/live", "hitpoints") in names
    finally:
        server.shutdown()
