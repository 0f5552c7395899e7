"""The app factory every service's ``main.py`` builds on: engine, sessions and
messaging created in ``lifespan`` (never at import time), the declared
background jobs, health and metrics endpoints, the one business-error handler
(``UseCaseError``), and the unit-of-work dependency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_access_tokens import UserRequired
from eproc_contracts import handlers as shared
from eproc_runtime.auth import TokenVerifier, on_user_required
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.errors import UseCaseError, on_use_case_error
from eproc_runtime.forwarded import trust_proxies
from eproc_runtime.jobs import BackgroundJob, Job, running
from eproc_runtime.limits import RequestLimits
from eproc_runtime.logging import configure_logging
from eproc_runtime.messaging import Messaging
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.outbox import MessagingTables
from eproc_runtime.ratelimit import RateLimits
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.tracing import TracingMiddleware, configure_tracing


@dataclass
class ServiceState:
    """What a running service holds; reachable from a request as ``request.app.state.service``."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    messaging: Messaging
    jobs: dict[str, BackgroundJob] = field(default_factory=dict)
    """The running background jobs, by name."""


def create_service_app(
    settings: ServiceSettings,
    *,
    package: str,
    tables: MessagingTables,
    routers: Iterable[APIRouter] = (),
    handlers: shared.EventHandlers[AsyncSession] | None = None,
    migrate_on_start: bool = False,
    title: str | None = None,
    on_start: Callable[[ServiceState], Any] | None = None,
    token_verifier: TokenVerifier | None = None,
    jobs: Iterable[Job] = (),
    rate_limits: Mapping[str, str] | None = None,
) -> FastAPI:
    """A FastAPI app for one service.

    ``migrate_on_start`` applies the service's Alembic history at start-up
    (the embedded mode); in the real stack migrations run as their own step.
    ``jobs`` run in every instance from start-up (after ``on_start``) until
    shutdown (see :mod:`eproc_runtime.jobs`). A :class:`UseCaseError` raised
    anywhere under a route is answered in the one business-error shape.
    ``rate_limits`` names the service's limits (name -> the ``limits`` notation,
    from its settings) that routes opt into with ``rate_limited(name)``
    (:mod:`eproc_runtime.ratelimit`), counted in ``rate_limit_storage_uri``.
    """
    declared_jobs = list(jobs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        configure_tracing(settings.service_name)
        if migrate_on_start:
            await upgrade_async(package, settings.database_url)
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        messaging = Messaging(settings, sessions, tables, handlers=handlers)
        await messaging.start()
        state = ServiceState(settings, engine, sessions, messaging)
        app.state.service = state
        try:
            if on_start is not None:
                await on_start(state)
            state.jobs = {job.name: job.create(state) for job in declared_jobs}
            async with running(state.jobs.items()):
                yield
        finally:
            await messaging.stop()
            await engine.dispose()

    app = FastAPI(title=title or settings.service_name, lifespan=lifespan)
    app.add_exception_handler(UseCaseError, on_use_case_error)
    app.add_exception_handler(UserRequired, on_user_required)
    # Oversized bodies (413) and NUL characters (400) never reach a route.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_request_body_bytes)
    # Outermost: one server span per request, continuing the caller's traceparent.
    app.add_middleware(TracingMiddleware, service=settings.service_name)
    # Outside even that: the client's address as the trusted proxies report it.
    trust_proxies(app, settings)
    if rate_limits is not None:
        app.state.rate_limits = RateLimits(rate_limits, storage_uri=settings.rate_limit_storage_uri)
    # Tests replace it with a verifier of their own test issuer.
    app.state.token_verifier = token_verifier or TokenVerifier(
        issuer=settings.token_issuer, client_id=settings.token_audience, jwks_url=settings.jwks_url
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request, response: Response) -> dict[str, str]:
        """Ready to take traffic: the database answers, and a consuming service's
        consumer is a member of its group with its partitions assigned (not
        while it joins or rebalances). Kubernetes routes requests only to ready
        pods; a pod that stays unready is not restarted (liveness is /healthz)."""
        state: ServiceState = request.app.state.service
        try:
            async with state.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
        except Exception as exc:
            response.status_code = 503
            return {"status": "unavailable", "database": type(exc).__name__}
        consumer = state.messaging.consumer
        if consumer is not None and not consumer.joined:
            response.status_code = 503
            return {"status": "unavailable", "consumer": "not assigned"}
        return {"status": "ready"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on error (the
    commit of events wakes the relay: eproc_runtime.outbox). The sessions are
    ``app.state.service.sessions``: a :class:`ServiceState`'s, or those of an app
    that holds no messaging (the eID gateway)."""
    sessions: async_sessionmaker[AsyncSession] | None = request.app.state.service.sessions
    assert sessions is not None, "the app's lifespan opens the database"
    async with sessions() as session, session.begin():
        yield session


# scope="function": the transaction commits before the response is sent, so a
# client never acts on a response whose writes are not durable, and a failed
# commit is an error response rather than a 200.
DbSession = Annotated[AsyncSession, Depends(_session, scope="function")]
