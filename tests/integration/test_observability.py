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
from typing import Any
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.hitpoints.app import build as build_hitpoints
from services.hitpoints.settings import HitpointsSettings
from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
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
        (producer,) = [s for s in mine if s.name == "domain.created publish"]
        assert server.context and producer.parent and producer.context
        assert producer.kind is SpanKind.PRODUCER and producer.parent.span_id == server.context.span_id
        # the consumer's span is the publisher's child: the context crossed the outbox and RabbitMQ
        assert consumer.kind is SpanKind.CONSUMER and consumer.parent.span_id == producer.context.span_id

        metrics = (await registry.get("/metrics")).text
        assert 'http_requests_total{handler="/api/domains",method="POST",status="201"} 1.0' in metrics
        assert 'http_request_duration_seconds_count{handler="/api/domains",method="POST"} 1.0' in metrics

    lines = [json.loads(line) for line in access_log.getvalue().splitlines()]
    (line,) = [x for x in lines if x.get("http_route") == "/api/domains"]
    assert line["logger"] == "access" and line["http_method"] == "POST" and line["http_status"] == 201
    assert line["trace_id"] == TRACE_ID and line["duration_ms"] >= 0 and "correlation_id" in line


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
