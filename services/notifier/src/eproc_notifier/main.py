"""App factory of the notifier service.

The app has no API of its own (health, readiness and metrics come with the
factory); its lifespan runs the event consumer and the mail sender.
``eproc_notifier.worker`` runs the same without HTTP.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from eproc_notifier.consumers import handlers
from eproc_notifier.delivery import MailSender
from eproc_notifier.models import messaging_tables
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.app import ServiceState, create_service_app


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = False) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings,
        package="eproc_notifier",
        tables=messaging_tables,
        handlers=handlers(Notifications(settings)),
        migrate_on_start=migrate_on_start,
        title="e-Procurement notifier",
    )
    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_lifespan(app):
            state: ServiceState = app.state.service
            sender = MailSender(settings, state.sessions)
            app.state.mail_sender = sender
            task = asyncio.create_task(sender.run(), name="mail-sender")
            try:
                yield
            finally:
                sender.stop()
                await task

    app.router.lifespan_context = lifespan
    return app
