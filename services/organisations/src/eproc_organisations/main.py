"""App factory of the organisations service."""

from fastapi import FastAPI

from eproc_organisations.api import router
from eproc_organisations.consumers import HANDLERS
from eproc_organisations.models import messaging_tables
from eproc_organisations.settings import Settings
from eproc_runtime.app import create_service_app
from eproc_runtime.auth import TokenVerifier


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The organisations service: directory, memberships, role catalogue, guards."""
    settings = settings or Settings()
    app = create_service_app(
        settings,
        package="eproc_organisations",
        tables=messaging_tables,
        routers=[router],
        handlers=HANDLERS,
        migrate_on_start=migrate_on_start,
        title="e-Procurement organisations",
        token_verifier=token_verifier,
        rate_limits={"search": settings.search_rate_limit},
    )
    return app
