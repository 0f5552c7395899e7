"""App factory of the requests service."""

from __future__ import annotations

from fastapi import FastAPI

from eproc_requests.api import router
from eproc_requests.consumers import HANDLERS
from eproc_requests.models import messaging_tables
from eproc_requests.service.common import RequestsContext
from eproc_requests.service.reminders import ReminderJob
from eproc_requests.settings import Settings
from eproc_runtime.app import ServiceState, create_service_app
from eproc_runtime.auth import TokenVerifier
from eproc_runtime.jobs import Job


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    settings = settings or Settings()

    def reminders(state: ServiceState) -> ReminderJob:
        return ReminderJob(
            state.sessions,
            delay_working_days=settings.reminder_delay_working_days,
            interval=settings.reminder_interval_seconds,
            batch_size=settings.reminder_batch_size,
        )

    app = create_service_app(
        settings,
        package="eproc_requests",
        tables=messaging_tables,
        routers=[router],
        handlers=HANDLERS,
        migrate_on_start=migrate_on_start,
        title="e-Procurement requests",
        token_verifier=token_verifier,
        # Reminders for requests waiting too long (R-REQ-14), in every instance.
        jobs=[Job("request-reminders", reminders)] if settings.reminder_job_enabled else [],
        rate_limits={"submission": settings.submission_rate_limit},
    )
    app.state.requests_settings = settings
    app.state.requests_context = RequestsContext(
        reminder_delay_working_days=settings.reminder_delay_working_days,
    )
    return app
