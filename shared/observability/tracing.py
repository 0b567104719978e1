"""OpenTelemetry traces across HTTP -> outbox -> broker -> consumer (W3C trace context).

Each service has its own TracerProvider (several services share one process in the tests). Spans are
always made, so the trace context travels and log lines carry their trace id; they leave the process only
when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP over HTTP, batched).

The context crosses the asynchronous hops in two carriers:
  - the outbox record (`trace`), written in the transaction of the command or handler that made the event;
  - the AMQP message headers (`traceparent`, `tracestate`): the relay passes the record's context on, so the
    consumer's span is the child of the span that made the event, in its trace.
The relay publishes batches: one PRODUCER span per batch ("outbox publish", with how many it published and
what failed), linked to the context of each event in it (OpenTelemetry's messaging conventions for batches); an
event written outside any span carries the batch span's context instead. A span per event cost the relay a tenth
of its CPU (bench/bench_event_pipeline.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind

Carrier = dict[str, str]
TRACE_HEADERS = ("traceparent", "tracestate")
# a relay batch's span links every event it publishes: up to the largest OUTBOX_BATCH_SIZE (the SDK keeps 128)
MAX_LINKS = 5_000


def tracer_provider(service: str, otlp_endpoint: str = "") -> TracerProvider:
    """The service's provider; with an endpoint, spans are exported there (`<endpoint>/v1/traces`)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}),
                              span_limits=SpanLimits(max_links=MAX_LINKS))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = otlp_endpoint.rstrip("/")
        url = url if url.endswith("/v1/traces") else f"{url}/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return provider


def current_carrier() -> Carrier:
    """The active trace context as W3C headers (empty outside a span): what the outbox record keeps."""
    carrier: Carrier = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, Any] | None) -> otel_context.Context:
    return propagate.extract(message_trace(carrier))


@contextlib.contextmanager
def span(tracer: trace.Tracer, name: str, kind: SpanKind, parent: Mapping[str, Any] | None = None,
         **attributes: Any) -> Iterator[Span]:
    """A span, child of the context in `parent` (headers or an outbox record's carrier) when given,
    else of the active one; made current while the block runs."""
    ctx = context_from(parent) if parent is not None else None
    with tracer.start_as_current_span(name, context=ctx, kind=kind,
                                      attributes={k: v for k, v in attributes.items() if v is not None}) as s:
        yield s


def message_trace(carrier: Mapping[str, Any] | None) -> Carrier:
    """The W3C trace context of a carrier (an outbox record's) as message headers: traceparent and tracestate."""
    return {k: str(carrier[k]) for k in TRACE_HEADERS if k in carrier} if carrier else {}


def start_batch_span(tracer: trace.Tracer, name: str, carriers: Sequence[Mapping[str, Any] | None],
                     attributes: Mapping[str, Any]) -> Span:
    """A PRODUCER span for publishing a batch, linked to the context each message carries (OpenTelemetry's
    messaging conventions for batches); a root span, NOT made current. Links beyond MAX_LINKS are dropped."""
    links = []
    for carrier in carriers:
        if carrier:
            linked = trace.get_current_span(context_from(carrier)).get_span_context()
            if linked.is_valid:
                links.append(trace.Link(linked))
    return tracer.start_span(name, context=otel_context.Context(), kind=SpanKind.PRODUCER, links=links,
                             attributes=attributes)


def carrier_of(active: Span) -> Carrier:
    """The W3C trace context of `active` as message headers, without making it current."""
    carrier: Carrier = {}
    propagate.inject(carrier, context=trace.set_span_in_context(active))
    return carrier


@contextlib.contextmanager
def within(active: Span | None) -> Iterator[None]:
    """Make `active` the current span (a handler run by the consumer's worker, outside the delivery's task)."""
    if active is None:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(active))
    try:
        yield
    finally:
        otel_context.detach(token)


def trace_id_of_current_span() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
