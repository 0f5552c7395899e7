"""Trace context: an HTTP request's span continues the caller's traceparent, the
outbox records it in the envelope, and log lines carry the trace id; the OTLP
exporter sends spans to a (small, real) collector."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from eproc_runtime.tracing import (
    TracingMiddleware,
    add_trace_ids,
    configure_tracing,
    consumer_span,
    current_traceparent,
)


def test_http_span_continues_the_callers_trace_and_logs_carry_it(tmp_path: Path) -> None:
    configure_tracing("test", exporter=f"file:{tmp_path / 'spans.jsonl'}")
    app = FastAPI()
    app.add_middleware(TracingMiddleware, service="test")
    seen: dict[str, object] = {}

    @app.get("/work")
    async def work() -> dict[str, str | None]:
        seen["log"] = add_trace_ids(None, "info", {"event": "working"})
        return {"traceparent": current_traceparent()}

    trace_id = uuid.uuid4().hex
    with TestClient(app) as client:
        body = client.get("/work", headers={"traceparent": f"00-{trace_id}-{'1' * 16}-01"}).json()
    assert body["traceparent"].split("-")[1] == trace_id
    assert seen["log"]["trace_id"] == trace_id  # type: ignore[index]

    # A consumer span continues the envelope's traceparent.
    with consumer_span("group", "membership.granted", "e1", body["traceparent"]):
        assert (current_traceparent() or "").split("-")[1] == trace_id
        line = structlog.processors.JSONRenderer()(
            None, "info", add_trace_ids(None, "info", {"event": "handled"})
        )
        assert json.loads(line)["trace_id"] == trace_id
    assert current_traceparent() is None


class _Collector(BaseHTTPRequestHandler):
    """A tiny OTLP/HTTP collector: keeps every ``POST /v1/traces`` body, decoded."""

    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces" or self.headers["Content-Type"] != "application/x-protobuf":
            self.send_response(404)
            self.end_headers()
            return
        self.received.append(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        return None


def test_otlp_exporter_posts_the_spans_to_a_collector() -> None:
    """``EPROC_TRACE_EXPORTER=otlp:<url>`` in a service process: its spans reach the
    collector over HTTP as OTLP protobuf, with their names, trace id and service."""
    received: list[ExportTraceServiceRequest] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("C", (_Collector,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    program = (
        "from eproc_runtime.tracing import configure_tracing, current_traceparent, tracer,"
        " shutdown_tracing\n"
        "configure_tracing('otlp-probe')\n"
        "with tracer().start_as_current_span('approve request'):\n"
        "    with tracer().start_as_current_span('write outbox'):\n"
        "        print(current_traceparent(), flush=True)\n"
        "shutdown_tracing()\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", program],
            env={
                **os.environ,
                "EPROC_TRACE_EXPORTER": f"otlp:http://127.0.0.1:{server.server_address[1]}",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    trace_id = done.stdout.strip().split("-")[1]
    spans = [
        (resource.resource, span)
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert sorted(span.name for _, span in spans) == ["approve request", "write outbox"]
    assert {span.trace_id.hex() for _, span in spans} == {trace_id}
    services = {
        attribute.value.string_value
        for resource, _ in spans
        for attribute in resource.attributes
        if attribute.key == "service.name"
    }
    assert services == {"otlp-probe"}
    child = next(span for _, span in spans if span.name == "write outbox")
    parent = next(span for _, span in spans if span.name == "approve request")
    assert child.parent_span_id == parent.span_id
