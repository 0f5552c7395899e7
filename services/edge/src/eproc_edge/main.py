"""App factory of the edge service."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from uuid import UUID

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eproc_contracts.topics import CLIENT, REVOCATION, SESSION
from eproc_edge import backchannel
from eproc_edge.api import Edge, router
from eproc_edge.api.register import on_registration_error
from eproc_edge.api.token_path import TokenPath
from eproc_edge.api.token_path import routes as token_path_routes
from eproc_edge.assertions import AssertionVerifier
from eproc_edge.claims import ClaimsCache
from eproc_edge.clients import ClientAuthenticator
from eproc_edge.consumers import handlers
from eproc_edge.dynamic_registration import RegistrationError
from eproc_edge.identity_port import HttpIdentityPort, IdentityPort
from eproc_edge.keys import KeyRing
from eproc_edge.models import messaging_tables
from eproc_edge.oauth import EdgeAuthorizationServer
from eproc_edge.registry import ClientDirectory, ClientFeed, open_registry
from eproc_edge.scim import router as scim_router
from eproc_edge.security import ALWAYS, HTML
from eproc_edge.settings import Settings
from eproc_edge.sweep import ExpiredRowsSweep
from eproc_edge.upstream import UpstreamProvider
from eproc_page_shell import STATIC_DIR
from eproc_platform_sdk.revocation import RevocationFeed, RevocationList, TopicFeed
from eproc_runtime.app import ServiceState, create_service_app
from eproc_runtime.db import unit_of_work
from eproc_runtime.jobs import Job
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
    directory = ClientDirectory()
    server = EdgeAuthorizationServer(settings, keyring, directory.clients)
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
        authenticator=ClientAuthenticator(server.clients),
        assertions=AssertionVerifier(server.query_client, issuer=settings.issuer),
        # The edge computes claims afresh: it refuses no token for stale claims.
        revocations=RevocationList(max_lag=settings.revocation_max_lag, stale_claims=False),
        directory=directory,
    )
    directory.on_change(edge.authenticator.forget)
    deliveries: set[asyncio.Task[None]] = set()

    def sessions_ended(user_id: UUID, ended: list[tuple[str, list[str]]]) -> None:
        """Sessions a password change ended: their applications' back-channel
        logout, as at a logout (an application that is down only misses it)."""
        notices = [
            notice
            for session_id, client_ids in ended
            for notice in backchannel.notices(
                keyring,
                issuer=settings.issuer,
                query_client=server.query_client,
                user_id=user_id,
                session_id=session_id,
                client_ids=client_ids,
            )
        ]
        if notices:
            task = asyncio.create_task(backchannel.deliver(notices))
            deliveries.add(task)
            task.add_done_callback(deliveries.discard)

    async def on_start(state: ServiceState) -> None:
        async with unit_of_work(state.sessions) as session:
            await keyring.refresh(session, force=True)
        # The topics the edge publishes (its consumer's topics exist already).
        await state.messaging.bus.ensure_topics(
            [settings.topic_prefix + t.name for t in (SESSION, REVOCATION, CLIENT)]
        )
        # The former configuration, once (the registry keeps what it has), then
        # every client of the registry.
        await open_registry(state.sessions, directory, settings.clients)
        edge.token_service(state)
        if settings.bus != "kafka":
            # The embedded mode: this process is the only edge, and every
            # revocation enters its list as it is made.
            edge.revocations.always_current = True

    jobs = [
        Job("refresh-rotations", lambda state: edge.token_service(state).rotations),
        Job(
            "expired-rows",
            lambda state: ExpiredRowsSweep(state.sessions, settings.expired_rows_sweep_interval),
        ),
    ]
    if settings.bus == "kafka":
        feed_options = {
            k: v
            for k, v in settings.kafka_connection().aiokafka_options().items()
            if k != "bootstrap_servers"
        }
        # Every instance reads every revocation (no consumer group).
        feed = RevocationFeed(
            edge.revocations,
            bootstrap_servers=settings.kafka_bootstrap,
            topic_prefix=settings.topic_prefix,
            replay_seconds=settings.access_token_lifetime + 120,
            kafka_options=feed_options,
        )
        jobs.append(Job("revocation-feed", lambda state: _FeedJob(feed)))
        # Every instance reads every change of the client registry (no consumer
        # group), from a little before it loaded the registry at start.
        client_feed = ClientFeed(
            directory,
            settings.topic_prefix + CLIENT.name,
            bootstrap_servers=settings.kafka_bootstrap,
            replay_seconds=120,
            kafka_options=feed_options,
        )
        jobs.append(Job("client-feed", lambda state: _FeedJob(client_feed)))

    registry = handlers(settings, edge.revocations, sessions_ended)
    app = create_service_app(
        settings,
        package="eproc_edge",
        tables=messaging_tables,
        routers=[router, scim_router],
        handlers=registry,
        migrate_on_start=migrate_on_start,
        title="e-Procurement edge",
        on_start=on_start,
        jobs=jobs,
    )
    app.state.edge = edge
    app.state.handlers = registry  # what the consumer runs (tests feed events through it)
    # Dynamic registration answers in RFC 7591's words (and rolls back).
    app.add_exception_handler(RegistrationError, on_registration_error)
    # The platform's one stylesheet, for the login and logout pages (R-I18N-1).
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Clickjacking, sniffing and referrer leaks of codes; HSTS when served over https.
    app.add_middleware(
        SecurityHeaders, always=ALWAYS, html=HTML, hsts=settings.issuer.startswith("https://")
    )
    # Outermost: the token path answers before any other middleware or routing.
    app.add_middleware(TokenPath)
    app.router.routes.extend(token_path_routes())
    return app


@dataclass
class _FeedJob:
    """A feed (revocations, client changes) as one of the app's background jobs."""

    feed: TopicFeed

    async def run(self) -> None:
        await self.feed.run()

    def stop(self) -> None:
        self.feed.request_stop()
