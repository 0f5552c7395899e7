"""The eID gateway's app factory and process entry point (``eid-gateway``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eproc_page_shell import STATIC_DIR
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.errors import UseCaseError, on_use_case_error
from eproc_runtime.forwarded import trust_proxies
from eproc_runtime.limits import RequestLimits
from eproc_runtime.logging import configure_logging
from eproc_runtime.migrations import upgrade_async

from . import repository
from .api import router
from .oauth import GatewayAuthorizationServer
from .presentation import load_trust_anchors
from .service import Gateway
from .settings import Settings
from .status import StatusChecker


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = False) -> FastAPI:
    """The gateway: an OpenID Provider whose users log in with their eID card.

    It publishes no events, so it does not use the shared messaging runtime: its
    database holds only challenges, unredeemed codes and its signing key.
    """
    settings = settings or Settings()
    if settings.base_url.startswith("http://"):
        # authlib refuses plain HTTP; the embedded mode and tests run without TLS
        # (in the real stack TLS ends at the HTTP gateway and the issuer is https).
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    gateway = Gateway(
        settings=settings,
        server=GatewayAuthorizationServer(settings),
        anchors=load_trust_anchors(settings.trust_anchors),
        status=StatusChecker(
            timeout=settings.status_timeout,
            cache_max_age=settings.status_cache_max_age,
            max_crl_bytes=settings.status_max_crl_bytes,
            fail_open=settings.status_unavailable == "accept",
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        if not gateway.anchors:
            structlog.get_logger("eproc_eid_gateway").warning(
                "eid_no_trust_anchors", hint="set EPROC_TRUST_ANCHORS; every card is refused"
            )
        if settings.status_unavailable == "accept":
            structlog.get_logger("eproc_eid_gateway").warning(
                "eid_certificate_status_fail_open",
                hint="EPROC_STATUS_UNAVAILABLE=accept: cards whose status cannot be had log in",
            )
        if migrate_on_start:
            await upgrade_async("eproc_eid_gateway", settings.database_url)
        engine = create_engine(settings.database_url)
        gateway.sessions = create_session_factory(engine)
        async with unit_of_work(gateway.sessions) as session:
            gateway.server.signing_key = await repository.signing_key_or_create(session)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="eID gateway", lifespan=lifespan)
    # Oversized bodies (413) and NUL characters (400) never reach a route.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_request_body_bytes)
    trust_proxies(app, settings)
    app.state.gateway = gateway
    # The runtime's unit of work per request (DbSession) takes the gateway's sessions.
    app.state.service = gateway
    app.add_exception_handler(UseCaseError, on_use_case_error)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(router)
    # The platform's one stylesheet, for the eID login page (R-I18N-1).
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main() -> None:
    """Run the gateway with uvicorn (host and port from EPROC_HOST / EPROC_PORT)."""
    import uvicorn

    settings = Settings()
    if settings.database_url.startswith("sqlite") and ":///" in settings.database_url:
        # SQLite creates the file, not its folder.
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    uvicorn.run(
        create_app(settings, migrate_on_start=True),
        host=os.environ.get("EPROC_HOST", "127.0.0.1"),
        port=int(os.environ.get("EPROC_PORT", "8010")),
    )
