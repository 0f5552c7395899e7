"""Trace context: an HTTP request's span continues the caller's traceparent, the
outbox records it in the envelope, and log lines carry the trace id."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

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
