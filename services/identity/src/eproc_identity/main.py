"""App factory of the identity service."""

from fastapi import FastAPI

from eproc_identity.models import messaging_tables
from eproc_identity.settings import Settings
from eproc_runtime.app import create_service_app


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = False) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        package="eproc_identity",
        tables=messaging_tables,
        migrate_on_start=migrate_on_start,
        title="e-Procurement identity",
    )
