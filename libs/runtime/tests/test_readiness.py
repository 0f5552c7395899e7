"""``/readyz``, the readiness probe of every service (deploy/k8s): ready only
while the database answers and, for a consuming service, while its consumer is
a member of its group with its partitions assigned; ``/healthz`` (liveness)
stays up meanwhile, so Kubernetes stops routing to the pod without killing it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI

from eproc_runtime.app import ServiceState, create_service_app
from eproc_runtime.testing import demo
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import Backend

ISSUER = TestIssuer()
# The group membership and a database that can be unreachable are Kafka's and
# PostgreSQL's (the embedded log bus joins at once, SQLite is a local file).
KAFKA_POSTGRES = pytest.mark.parametrize("backend", ["kafka-postgres"], indirect=True)


def _app(backend: Backend, **settings: object) -> FastAPI:
    return create_service_app(
        backend.consumer_settings.model_copy(update=settings),
        package="eproc_runtime",
        tables=demo.consumer_tables,
        handlers=demo.HANDLERS,
        token_verifier=ISSUER.verifier(),
    )


async def _ready_within(http: httpx.AsyncClient, seconds: float) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


@KAFKA_POSTGRES
async def test_ready_once_the_consumer_is_assigned_and_not_after_it_left(
    backend: Backend,
) -> None:
    app = _app(backend)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as http,
    ):
        ready = await _ready_within(http, 90)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready"}
        # The consumer leaves its group (as in a rebalance, or a consumer that died).
        state: ServiceState = app.state.service
        assert state.messaging.consumer is not None
        state.messaging.consumer.stop()
        unready = await _ready_within(http, 0)
        deadline = time.monotonic() + 30
        while unready.status_code == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            unready = await _ready_within(http, 0)
        assert unready.status_code == 503
        assert unready.json() == {"status": "unavailable", "consumer": "not assigned"}
        assert (await http.get("/healthz")).status_code == 200


@KAFKA_POSTGRES
async def test_not_ready_while_the_database_does_not_answer(backend: Backend) -> None:
    # Nothing listens on port 9 (discard) of the loopback: every connection is refused.
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    app = _app(backend, database_url=unreachable)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as http,
    ):
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["database"]
        assert (await http.get("/healthz")).status_code == 200
