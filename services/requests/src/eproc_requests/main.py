"""App factory of the requests service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from eproc_requests.api import router
from eproc_requests.catalogue import RoleCatalogue
from eproc_requests.consumers import HANDLERS
from eproc_requests.errors import RequestsError
from eproc_requests.models import messaging_tables
from eproc_requests.service.common import RequestsContext
from eproc_requests.service.reminders import ReminderJob
from eproc_requests.settings import Settings
from eproc_runtime.app import ServiceState, create_service_app
from eproc_runtime.auth import TokenVerifier
from eproc_runtime.ratelimit import RateLimits


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings,
        package="eproc_requests",
        tables=messaging_tables,
        routers=[router],
        handlers=HANDLERS,
        migrate_on_start=migrate_on_start,
        title="e-Procurement requests",
        token_verifier=token_verifier,
    )
    app.state.requests_settings = settings
    app.state.rate_limits = RateLimits(
        {"submission": settings.submission_rate_limit},
        storage_uri=settings.rate_limit_storage_uri,
    )
    app.state.requests_context = RequestsContext(
        catalogue=RoleCatalogue.load(settings.role_catalogue_path),
        reminder_delay_working_days=settings.reminder_delay_working_days,
    )

    @app.exception_handler(RequestsError)
    async def _business_error(_request: Request, exc: RequestsError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code)

    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The runtime's lifespan, plus the reminder job (R-REQ-14) in every instance."""
        async with service_lifespan(app):
            job: asyncio.Task[None] | None = None
            reminders: ReminderJob | None = None
            if settings.reminder_job_enabled:
                state: ServiceState = app.state.service
                reminders = ReminderJob(
                    state.sessions,
                    delay_working_days=settings.reminder_delay_working_days,
                    interval=settings.reminder_interval_seconds,
                    batch_size=settings.reminder_batch_size,
                )
                job = asyncio.create_task(reminders.run(), name="request-reminders")
            try:
                yield
            finally:
                if reminders is not None and job is not None:
                    reminders.stop()
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait_for(job, timeout=10)

    app.router.lifespan_context = lifespan
    return app
