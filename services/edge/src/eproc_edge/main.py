"""App factory of the edge service."""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eproc_contracts.topics import SESSION
from eproc_edge.api import Edge, router
from eproc_edge.claims import ClaimsCache
from eproc_edge.consumers import HANDLERS
from eproc_edge.identity_port import HttpIdentityPort, IdentityPort
from eproc_edge.keys import KeyRing
from eproc_edge.models import messaging_tables
from eproc_edge.oauth import EdgeAuthorizationServer
from eproc_edge.security import ALWAYS, HTML
from eproc_edge.settings import Settings
from eproc_edge.upstream import UpstreamProvider
from eproc_page_shell import STATIC_DIR
from eproc_runtime.app import ServiceState, create_service_app
from eproc_runtime.db import unit_of_work
from eproc_runtime.security import SecurityHeaders


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    identity: IdentityPort | None = None,
) -> FastAPI:
    """The edge: OpenID Provider, SSO session, and the claims projection's consumer.

    ``identity`` replaces the HTTP port to the identity service (tests pass a fake).
    """
    settings = settings or Settings()
    if settings.issuer.startswith("http://"):
        # authlib refuses plain HTTP; the embedded mode and tests run without TLS
        # (in the real stack TLS ends at the gateway and the issuer is https).
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    # Keys stay published until every token they signed has expired.
    overlap = max(settings.access_token_lifetime, settings.id_token_lifetime) + 60
    keyring = KeyRing(rotation_interval=settings.key_rotation_interval, overlap=overlap)
    cache = ClaimsCache()
    server = EdgeAuthorizationServer(settings, keyring)
    edge = Edge(
        settings=settings,
        keyring=keyring,
        server=server,
        cache=cache,
        identity=identity
        or HttpIdentityPort(
            settings.identity_url,
            access_token=lambda: server.self_access_token(),
        ),
        upstream=UpstreamProvider(settings),
    )

    async def on_start(state: ServiceState) -> None:
        async with unit_of_work(state.sessions) as session:
            await keyring.refresh(session, force=True)
        # The topic the edge publishes (its consumer's topics exist already).
        await state.messaging.bus.ensure_topics([settings.topic_prefix + SESSION.name])

    app = create_service_app(
        settings,
        package="eproc_edge",
        tables=messaging_tables,
        routers=[router],
        handlers=HANDLERS,
        migrate_on_start=migrate_on_start,
        title="e-Procurement edge",
        on_start=on_start,
    )
    app.state.edge = edge
    # The platform's one stylesheet, for the login and logout pages (R-I18N-1).
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Clickjacking, sniffing and referrer leaks of codes; HSTS when served over https.
    app.add_middleware(
        SecurityHeaders, always=ALWAYS, html=HTML, hsts=settings.issuer.startswith("https://")
    )
    return app
