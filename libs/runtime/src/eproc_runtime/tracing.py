"""OpenTelemetry tracing: one trace follows a user action over HTTP and Kafka.

- :class:`TracingMiddleware` opens a server span per HTTP request, continuing
  the caller's W3C ``traceparent`` header (the FastAPI layer of every service).
- The outbox records the current span's ``traceparent`` in each event's
  envelope (and the relay copies it into the Kafka headers).
- The consumer runs each handler inside a span whose parent is the envelope's
  ``traceparent``, so events written by a handler carry the same trace on.
- :func:`add_trace_ids` puts ``trace_id``/``span_id`` on every structlog line.

Exporting is configured by ``EPROC_TRACE_EXPORTER``: ``none`` (default: spans
are still created, so ids propagate and reach the logs), ``console`` (JSON
lines on stderr), ``file:<path>`` (JSON lines appended to a file; the tests
and the local stack use it) or ``otlp:<url>`` (OTLP over HTTP/protobuf to a
collector, e.g. ``otlp:http://collector:4318``; spans are batched).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eproc_messaging.tracing import (
    TRACER_NAME,
    consumer_span,
    context_from_traceparent,
    current_traceparent,
)

__all__ = [
    "JsonLinesExporter",
    "TracingMiddleware",
    "add_trace_ids",
    "configure_tracing",
    "consumer_span",
    "context_from_traceparent",
    "current_traceparent",
    "inject_headers",
    "shutdown_tracing",
    "span_record",
    "tracer",
]

_propagator = TraceContextTextMapPropagator()
_configured = False
_lock = threading.Lock()


class JsonLinesExporter(SpanExporter):
    """Writes each finished span as one JSON line (to a file, or to stderr)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_record(s)) for s in spans]
        with self._lock:
            if self._path is None:
                import sys

                for line in lines:
                    print(line, file=sys.stderr, flush=True)
            else:
                with self._path.open("a", encoding="utf-8") as out:
                    out.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """A span as a flat dict (what the JSON-lines exporter writes)."""
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "name": span.name,
        "service": (span.resource.attributes.get("service.name") if span.resource else None),
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
    }


def configure_tracing(service: str, exporter: str | None = None) -> None:
    """Install the process's tracer provider once (the first service to start names it).

    ``exporter`` defaults to ``EPROC_TRACE_EXPORTER``.
    """
    global _configured
    with _lock:
        if _configured:
            return
        _configured = True
    choice = exporter if exporter is not None else os.environ.get("EPROC_TRACE_EXPORTER", "none")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if choice == "console":
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter()))
    elif choice.startswith("file:"):
        path = Path(choice.removeprefix("file:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path)))
    elif choice.startswith("otlp:"):
        provider.add_span_processor(BatchSpanProcessor(otlp_exporter(choice.removeprefix("otlp:"))))
    elif choice != "none":
        raise ValueError(f"EPROC_TRACE_EXPORTER: unknown exporter {choice!r}")
    trace.set_tracer_provider(provider)


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP/protobuf. ``endpoint`` is the collector's base URL (``/v1/traces``
    is appended, as for ``OTEL_EXPORTER_OTLP_ENDPOINT``) or the full traces URL."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint = endpoint.rstrip("/")
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    return OTLPSpanExporter(endpoint=endpoint)


def shutdown_tracing() -> None:
    """Export the spans still batched (the OTLP exporter), e.g. before the process ends."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def inject_headers(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current trace context to outgoing HTTP headers (and return them)."""
    _propagator.inject(headers)
    return headers


def add_trace_ids(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current trace and span ids on every line."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
    return event_dict


class TracingMiddleware:
    """A server span per HTTP request, continuing the caller's ``traceparent``."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in ("/healthz", "/readyz", "/metrics"):
            await self.app(scope, receive, send)
            return
        current = trace.get_current_span()
        if current.get_span_context().is_valid:
            # FastAPI's own telemetry (0.16x, on once a tracer provider is set) already
            # opened the server span, continuing the caller's traceparent: name the
            # service on it rather than nest a second server span.
            current.set_attribute("eproc.service", self.service)
            await self.app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers", [])
            if k in (b"traceparent", b"tracestate")
        }
        # No traceparent: a new trace starts here.
        parent = _propagator.extract(carrier) if carrier else None
        route = scope.get("root_path", "") + scope.get("path", "")
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        with tracer().start_as_current_span(
            f"{scope.get('method', 'GET')} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": scope.get("method", ""),
                "url.path": route,
                "eproc.service": self.service,
            },
        ) as span:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                span.set_attribute("http.response.status_code", status_code)
                if status_code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
