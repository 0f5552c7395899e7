"""The trace context an event carries from its producer to its consumers.

The outbox records the current span's W3C ``traceparent`` in each envelope (and
the relay copies it into the message headers); the consumer runs each handler
in a span whose parent it names, so one trace follows a user action over
HTTP and the bus. Only the OpenTelemetry API is used: the process's tracer
provider (the services' ``eproc_runtime.tracing``, or an application's own)
decides what is recorded and exported; without one the spans are no-ops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER_NAME = "eproc"

_propagator = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None outside any span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> otel_context.Context | None:
    """The remote parent a ``traceparent`` names (None when absent or malformed)."""
    if not traceparent:
        return None
    ctx = _propagator.extract({"traceparent": traceparent})
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx


@contextmanager
def consumer_span(
    group: str, event_type: str, event_id: str, traceparent: str | None
) -> Iterator[Span]:
    """The span around one handler run, child of the event's producer span."""
    with trace.get_tracer(TRACER_NAME).start_as_current_span(
        f"consume {event_type}",
        context=context_from_traceparent(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.consumer.group.name": group,
            "messaging.message.id": event_id,
            "eproc.event_type": event_type,
        },
    ) as span:
        yield span
