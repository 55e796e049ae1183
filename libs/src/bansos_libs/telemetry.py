"""OpenTelemetry tracing whose context crosses Kafka in message headers.

The producer side writes the W3C ``traceparent`` (and ``tracestate``) of the span that
caused an event into the stored event and then into the Kafka headers; the consumer side
extracts it and starts its processing span as a child, so one trace runs from the HTTP
command through Kafka into every downstream service.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
TRACE_HEADERS = ("traceparent", "tracestate")
_configured = False


def configure_tracing(
    service: str,
    exporter: str = "console",
    endpoint: str | None = None,
    sample_ratio: float = 1.0,
) -> TracerProvider:
    """Install a tracer provider for this process: console, OTLP/HTTP or no exporter.

    New traces are recorded at ``sample_ratio``; a span whose parent came from another
    process (a consumed message) follows the parent's decision, so a trace is kept or
    dropped whole. Unrecorded spans still carry trace ids into logs and headers.
    """
    global _configured
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"bansos-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    span_exporter: SpanExporter | None = None
    if exporter == "console":
        span_exporter = ConsoleSpanExporter(
            out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = (
            OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
            if endpoint
            else OTLPSpanExporter()
        )
    if span_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    if not _configured:
        trace.set_tracer_provider(provider)
        propagate.set_global_textmap(_PROPAGATOR)
        _configured = True
    return provider


def tracer(name: str = "bansos") -> trace.Tracer:
    """The tracer of a component (``bansos.outbox``, ``bansos.consumer``, …)."""
    return trace.get_tracer(name)


def current_carrier() -> dict[str, str]:
    """The W3C trace headers of the current span, to be stored with an event."""
    # Written directly: this runs for every event stored, and the generic propagator
    # costs several times more for the same two strings.
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    carrier = {
        "traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-"
        f"{context.trace_flags:02x}"
    }
    if context.trace_state:
        carrier["tracestate"] = context.trace_state.to_header()
    return carrier


_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def context_from_carrier(carrier: Mapping[str, str]) -> Context:
    """An OpenTelemetry context whose parent is the span named in ``carrier``."""
    match = _TRACEPARENT.match(carrier.get("traceparent", ""))
    if match is None or "tracestate" in carrier:
        return _PROPAGATOR.extract(dict(carrier))  # the general (and slower) path
    trace_id, span_id = int(match[1], 16), int(match[2], 16)
    if not trace_id or not span_id:
        return Context()
    parent = trace.SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=trace.TraceFlags(int(match[3], 16))
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


def carrier_from_headers(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The trace headers found among Kafka message headers."""
    return {
        name: value.decode("ascii", "replace")
        for name, value in headers
        if name in TRACE_HEADERS and value
    }


def context_from_headers(headers: Sequence[tuple[str, bytes]]) -> Context:
    """The producer's trace context carried by a Kafka message."""
    return context_from_carrier(carrier_from_headers(headers))


def trace_id_of(context: Context | None = None) -> str | None:
    """The hex trace id of the span current in ``context`` (or now)."""
    span = trace.get_current_span(context)
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


attach = otel_context.attach
detach = otel_context.detach
