"""App factory of the identity service."""

from fastapi import FastAPI

from eproc_identity.api import ROUTERS
from eproc_identity.consumers import HANDLERS
from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.errors import install_error_handlers
from eproc_identity.models import messaging_tables
from eproc_identity.service.common import Identity
from eproc_identity.settings import Settings
from eproc_runtime.app import create_service_app
from eproc_runtime.auth import TokenVerifier


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    token_verifier: TokenVerifier | None = None,
    eid_token_verifier: EidTokenVerifier | None = None,
) -> FastAPI:
    """The identity service's app; tests pass their own token verifiers."""
    settings = settings or Settings()
    app = create_service_app(
        settings,
        package="eproc_identity",
        tables=messaging_tables,
        routers=ROUTERS,
        handlers=HANDLERS,
        migrate_on_start=migrate_on_start,
        title="e-Procurement identity",
        token_verifier=token_verifier,
        rate_limits={
            "password_change": settings.password_change_rate_limit,
            "password_reset": settings.password_reset_rate_limit,
            "password_reset_account": settings.password_reset_rate_limit_per_account,
        },
    )
    app.description = (
        "Users and profiles registered with the eID card, the personal address book, "
        "and the local-login policy (SPEC §2, §6)."
    )
    app.state.identity = Identity.from_settings(settings, eid_tokens=eid_token_verifier)
    install_error_handlers(app)
    return app
