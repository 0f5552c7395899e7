"""App factory of the notifier service.

The app has no API of its own (health, readiness and metrics come with the
factory); it runs the event consumer and, as declared jobs, the mail sender and the watch
over held mails (``held.py``).
``eproc_notifier.worker`` runs the same without HTTP.
"""

from fastapi import FastAPI

from eproc_notifier.consumers import handlers
from eproc_notifier.delivery import MailSender
from eproc_notifier.held import HeldMailWatch
from eproc_notifier.models import messaging_tables
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.app import create_service_app
from eproc_runtime.jobs import Job


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = False) -> FastAPI:
    settings = settings or Settings()
    notifications = Notifications(settings)
    return create_service_app(
        settings,
        package="eproc_notifier",
        tables=messaging_tables,
        handlers=handlers(notifications),
        migrate_on_start=migrate_on_start,
        title="e-Procurement notifier",
        jobs=[
            Job("mail-sender", lambda state: MailSender(settings, state.sessions)),
            Job(
                "held-mails",
                lambda state: HeldMailWatch(settings, state.sessions, notifications),
            ),
        ],
    )
