"""A small world of organisations, users and actors for the adversarial suite.

Every landed service runs as its real ASGI app on its own real PostgreSQL
database. The world is built through the services' public APIs (registration,
the operator's bootstrap, a Superuser adding a member) and their consumer
handlers: the membership events the organisations service wrote to its outbox
are fed, as they are, to the identity and requests services' handlers — the
same path the bus takes, without the bus.

Organisations: ``parent`` → ``org`` → ``child``, and an unrelated ``other``.
Actors (the columns of the matrix):

    anonymous          no token
    buyer              member of ``org`` (role buyer), no Superuser
    other_buyer        member of ``other`` only
    superuser          Superuser of ``org``
    other_superuser    Superuser of ``other``
    parent_superuser   Superuser of ``parent`` (not of ``org``)
    child_superuser    Superuser of ``child`` (not of ``org``)
    operator           platform operator (identity's record and the token), member of nothing
    application        a platform application (client credentials)
    edge               the SSO edge (client credentials; identity's internal API)

For the edge, the actors carry the edge's own credentials (:meth:`World.edge_credentials`):
a user's SSO session cookie and an access token the edge itself signed, the
application's client secret, the edge's own client token. For the portal, the
actors are portal sessions (:meth:`World.portal_session`). The notifier has no
API: it is listed so that a route added to it cannot escape the matrix.

To add a service: write its ``start_*`` function and add one line to
``SERVICES``; the matrix then fails until the new routes have expectations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import UserRegistered
from eproc_contracts.topics import decode
from eproc_runtime.app import ServiceState
from eproc_runtime.consumer import EventHandlers
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

ACTORS = (
    "anonymous",
    "buyer",
    "other_buyer",
    "superuser",
    "other_superuser",
    "parent_superuser",
    "child_superuser",
    "operator",
    "application",
    "edge",
)
USER_ACTORS = (
    "buyer",
    "other_buyer",
    "superuser",
    "other_superuser",
    "parent_superuser",
    "child_superuser",
)

BUYER = RoleGrant(application="user-management", role="buyer")
SUPERUSER = RoleGrant(application="user-management", role="superuser")
ADDRESS = {"street": "Wetstraat", "number": "16", "postcode": "1000", "municipality": "Brussel"}
EID_ISSUER = "https://eid.adversarial.invalid"
EID_AUDIENCE = "eproc-portal"
APPLICATION_CLIENT = "e-tendering"
APPLICATION_SECRET = "e-tendering-secret"
EDGE_CLIENT = "edge"
PORTAL_CLIENT = "portal"
EDGE_URL = "http://edge"
WIDE_OPEN = "100000/minute"  # rate limits of the world unless a test overrides them


def enterprise_number() -> str:
    """A fresh enterprise number with valid mod-97 check digits."""
    body = 10_000_000 + uuid.uuid4().int % 9_000_000
    return f"{body:08d}{97 - body % 97:02d}"


_card_counter = iter(range(1, 10**6))


_issued_numbers: set[str] = set()


def national_number() -> str:
    """A fresh, valid national number (born 1985), never the same twice in a run
    (two random draws could name the same card: 'already registered')."""
    while True:
        n = next(_card_counter) + (uuid.uuid4().int % 900) * 1000
        body = f"85{1 + n % 12:02d}{1 + n // 12 % 28:02d}{n % 997:03d}"
        number = body + f"{97 - int(body) % 97:02d}"
        if number not in _issued_numbers:
            _issued_numbers.add(number)
            return number


class EidTokens:
    """Signs ID tokens as the eID gateway does, for registrations."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
        self.keys = KeySet([self.key])

    def public_keys(self) -> KeySet:
        return KeySet.import_key_set(self.keys.as_dict(private=False))

    def id_token(self, number: str, given_name: str = "Jan", family_name: str = "Peeters") -> str:
        now = int(time.time())
        subject = hmac.new(b"gateway key", number.encode(), hashlib.sha256).hexdigest()
        claims = {
            "iss": EID_ISSUER,
            "aud": EID_AUDIENCE,
            "sub": subject,
            "given_name": given_name,
            "family_name": family_name,
            "acr": "urn:be:fedict:iam:fas:Level500",
            "iat": now - 1,
            "exp": now + 300,
            "nonce": uuid.uuid4().hex,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)


@dataclass
class Service:
    """One running service: its app, a client, and its database (none: the portal)."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    database_url: str | None
    engine: AsyncEngine | None
    sessions: async_sessionmaker[AsyncSession] | None


@dataclass(frozen=True)
class Credentials:
    """How an actor authenticates to one service: headers and cookies."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    issuer: TestIssuer
    eid: EidTokens
    services: dict[str, Service] = field(default_factory=dict)
    users: dict[str, UUID] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    organisations: dict[str, UUID] = field(default_factory=dict)
    operator_id: UUID = field(default_factory=uuid.uuid4)
    events_fed: int = 0
    # Settings overrides per service (e.g. a tiny rate-limit window), read by start_*.
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The portal's session store (shared by every portal app of the world).
    portal_sessions: Any = None

    def headers(self, actor: str) -> dict[str, str]:
        """The Authorization header of an actor (none for ``anonymous``)."""
        if actor == "anonymous":
            return {}
        if actor == "application":
            token = self.issuer.client_token(APPLICATION_CLIENT, scope="memberships dossiers")
        elif actor == "edge":
            token = self.issuer.client_token(EDGE_CLIENT)
        elif actor == "operator":
            token = self.issuer.user_token(self.operator_id, operator=True)
        else:
            # The token even claims the active organisation and Superuser role:
            # services must decide from their own data, not from these claims.
            token = self.issuer.user_token(
                self.users[actor],
                organisation=self.organisations["org"],
                roles=["user-management:superuser"],
            )
        return {"Authorization": f"Bearer {token}"}

    async def edge_credentials(self, actor: str) -> Credentials:
        """The actor's credentials at the edge, fresh each call (a logout ends them).

        Users and the operator: a new SSO session (its cookie) and an access token
        the edge signed for the portal in that session. The application: its client
        secret (HTTP Basic). The edge: its own client-credentials token.
        """
        from eproc_edge import service as edge_service
        from eproc_edge.identity_port import Authenticated

        edge = self.services["edge"]
        state = edge.app.state.edge
        if actor == "anonymous":
            return Credentials()
        if actor == "application":
            basic = base64.b64encode(f"{APPLICATION_CLIENT}:{APPLICATION_SECRET}".encode())
            return Credentials(headers={"Authorization": f"Basic {basic.decode()}"})
        if actor == "edge":
            token = state.server.self_access_token()
            return Credentials(headers={"Authorization": f"Bearer {token}"})
        user = Authenticated(self.user_of(actor) or uuid.uuid4(), actor == "operator")
        assert edge.sessions is not None
        async with unit_of_work(edge.sessions) as session:
            _, cookie = await edge_service.start_session(
                session, state.settings, user, acr="password"
            )
        async with unit_of_work(edge.sessions) as session:
            row = await edge_service.session_from_cookie(session, cookie)
            client = state.server.query_client(PORTAL_CLIENT)
            principal, _ = await edge_service.principal_for(session, state.cache, row, client)
        token = state.server.sign_access_token(client, principal, "openid profile email")
        return Credentials(
            headers={"Authorization": f"Bearer {token}"},
            cookies={state.settings.session_cookie_name: cookie},
        )

    def portal_session(self, actor: str) -> tuple[str | None, str | None]:
        """A logged-in portal session of the actor: (cookie value, its CSRF token).

        A browser talks to the portal with a session cookie only: the
        application and the edge have no portal session (a bearer token means
        nothing to the portal), like an anonymous visitor.
        """
        user_id = self.user_of(actor)
        if user_id is None or actor in ("anonymous", "application", "edge"):
            return None, None
        token = self.issuer.user_token(
            user_id, organisation=self.organisations["org"], operator=actor == "operator"
        )
        csrf = secrets.token_urlsafe(32)
        session_id = secrets.token_urlsafe(32)
        self.portal_sessions.save(
            session_id,
            {
                "tokens": {"access_token": token, "expires_at": int(time.time()) + 3600},
                "user": {"id": str(user_id), "name": actor, "language": "en"},
                "active_organisation": {"id": str(self.organisations["org"]), "name": "Org"},
                "csrf": csrf,
            },
            3600,
        )
        return session_id, csrf

    def user_headers(self, user_id: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.user_token(user_id)}"}

    @property
    def operator_headers(self) -> dict[str, str]:
        return self.headers("operator")

    # --- building blocks used by the matrix's preparations ------------------------

    async def register_user(self, given_name: str = "Jan") -> tuple[UUID, str]:
        """Register a fresh user in identity and tell organisations (its event)."""
        username = f"u{uuid.uuid4().hex[:12]}"
        response = await self.services["identity"].client.post(
            "/registrations", json=self.registration_form(username, given_name=given_name)
        )
        assert response.status_code == 201, response.text
        profile = response.json()
        user_id = UUID(profile["id"])
        registered = UserRegistered(
            user_id=user_id,
            username=username,
            given_name=profile["given_name"],
            family_name=profile["family_name"],
            email=profile["email"],
            language=profile["language"],
            phone=profile["phone"],
        )
        for consumer in ("organisations", "edge"):
            await self.feed(consumer, registered)
        return user_id, username

    def registration_form(
        self, username: str | None = None, given_name: str = "Jan"
    ) -> dict[str, Any]:
        username = username or f"u{uuid.uuid4().hex[:12]}"
        return {
            "id_token": self.eid.id_token(national_number(), given_name=given_name),
            "email": f"{username}@example.be",
            "language": "nl",
            "phone": "02 511 11 11",
            "username": username,
            "password": f"a long pass phrase {uuid.uuid4().hex[:8]}",
        }

    async def feed(self, service: str, payload: Payload, producer: str = "identity") -> None:
        """Deliver one event to a service's own consumer handler, as its consumer would."""
        await self.deliver(service, Envelope.wrap(payload, producer=producer))

    async def deliver(self, service: str, envelope: Envelope[Any]) -> None:
        if service not in self.services:  # not started (yet): the world has no bus
            return
        handlers = HANDLERS[service]()
        sessions = self.services[service].sessions
        if handlers.handler_for(envelope.type) is None or sessions is None:
            return
        async with unit_of_work(sessions) as session:
            await handlers.dispatch(session, envelope)
        self.events_fed += 1

    async def relay_memberships(self) -> None:
        """Feed every membership event the organisations service has written (since
        the last call) to the consumers of identity, requests and the edge."""
        organisations = self.services["organisations"]
        outbox = _outbox("organisations")
        assert organisations.sessions is not None
        async with organisations.sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.id, outbox.c.payload)
                    .where(outbox.c.id > self._relayed)
                    .order_by(outbox.c.id)
                )
            ).all()
        for row_id, payload in rows:
            envelope = decode(payload)
            for consumer in ("identity", "requests", "edge"):
                await self.deliver(consumer, envelope)
            self._relayed = row_id

    _relayed: int = 0

    async def create_organisation(self, superuser: UUID | None, parent: UUID | None) -> UUID:
        response = await self.services["organisations"].client.post(
            "/operator/organisations",
            json={
                "names": {"nl": f"Adversarial {uuid.uuid4().hex[:8]}"},
                "enterprise_number": enterprise_number(),
                "address": ADDRESS,
                "parent_id": str(parent) if parent else None,
                "superuser_id": str(superuser) if superuser else None,
            },
            headers=self.operator_headers,
        )
        assert response.status_code == 201, response.text
        return UUID(response.json()["id"])

    async def add_member(
        self, organisation: str, user_id: UUID, roles: list[RoleGrant] | None = None
    ) -> None:
        """The organisation's Superuser adds ``user_id`` (through the public API)."""
        response = await self.services["organisations"].client.post(
            f"/organisations/{self.organisations[organisation]}/members",
            json={
                "user_id": str(user_id),
                "roles": [r.model_dump() for r in roles or [BUYER]],
            },
            headers=self.headers(SUPERUSER_OF[organisation]),
        )
        assert response.status_code == 201, response.text
        await self.relay_memberships()

    async def new_member(self, organisation: str = "org") -> UUID:
        user_id, _ = await self.register_user()
        await self.add_member(organisation, user_id)
        return user_id

    async def submitted_request(self, requester: UUID, organisation: str = "org") -> UUID:
        """A join request of ``requester``, submitted through the basket."""
        api = self.services["requests"].client
        headers = self.user_headers(requester)
        body = {"organisation_ids": [str(self.organisations[organisation])]}
        assert (await api.post("/basket/entries", json=body, headers=headers)).status_code == 200
        roles = {**body, "roles": [BUYER.model_dump()]}
        assert (await api.put("/basket/roles", json=roles, headers=headers)).status_code == 200
        response = await api.post("/basket/submit", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return UUID(response.json()[0]["id"])

    async def basket_ready(self, user_id: UUID, organisation: str = "org") -> None:
        api = self.services["requests"].client
        headers = self.user_headers(user_id)
        body = {"organisation_ids": [str(self.organisations[organisation])]}
        assert (await api.post("/basket/entries", json=body, headers=headers)).status_code == 200
        roles = {**body, "roles": [BUYER.model_dump()]}
        assert (await api.put("/basket/roles", json=roles, headers=headers)).status_code == 200

    async def contact_of(self, user_id: UUID) -> UUID:
        response = await self.services["identity"].client.post(
            "/users/me/contacts", json={"name": "Piet"}, headers=self.user_headers(user_id)
        )
        assert response.status_code == 201, response.text
        return UUID(response.json()["id"])

    def user_of(self, actor: str) -> UUID | None:
        if actor == "operator":
            return self.operator_id
        return self.users.get(actor)


SUPERUSER_OF = {
    "org": "superuser",
    "other": "other_superuser",
    "parent": "parent_superuser",
    "child": "child_superuser",
}


def _outbox(service: str) -> Any:
    module = __import__(f"eproc_{service.replace('-', '_')}.models", fromlist=["messaging_tables"])
    return module.messaging_tables.outbox


def _handlers(module: str) -> Callable[[], EventHandlers]:
    def load() -> EventHandlers:
        handlers: EventHandlers = __import__(module, fromlist=["HANDLERS"]).HANDLERS
        return handlers

    return load


HANDLERS: dict[str, Callable[[], EventHandlers]] = {
    "identity": _handlers("eproc_identity.consumers"),
    "organisations": _handlers("eproc_organisations.consumers"),
    "requests": _handlers("eproc_requests.consumers"),
    "edge": _handlers("eproc_edge.consumers"),
}


# --- starting the services ----------------------------------------------------------------


async def start_identity(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_identity.eid_token import EidTokenVerifier
    from eproc_identity.main import create_app
    from eproc_identity.settings import Settings

    settings = Settings(
        database_url=url,
        eid_issuer=EID_ISSUER,
        edge_client_ids=[EDGE_CLIENT],
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
        # Every actor asks for a reset link from the one test address: no floor,
        # no per-address limit here (their own tests: services/identity).
        password_reset_answer_seconds=0,
        password_reset_rate_limit="10000 per minute",
    )
    verifier = EidTokenVerifier(
        issuer=EID_ISSUER, audience=EID_AUDIENCE, keys=world.eid.public_keys()
    )
    app = create_app(settings, token_verifier=world.issuer.verifier(), eid_token_verifier=verifier)
    app.state.settings_for_tests = settings
    return app


async def start_organisations(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_organisations.main import create_app
    from eproc_organisations.settings import Settings

    # The matrix and the fuzzing act as few users many times: limits wide open here;
    # tests/test_abuse_limits.py sets tiny ones through ``overrides``.
    settings = Settings(
        database_url=url,
        **{"search_rate_limit": WIDE_OPEN, **world.overrides.get("organisations", {})},
    )
    app = create_app(settings, token_verifier=world.issuer.verifier())
    app.state.settings_for_tests = settings
    return app


async def start_requests(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_requests.main import create_app
    from eproc_requests.settings import Settings

    settings = Settings(
        database_url=url,
        reminder_job_enabled=False,
        organisations_url="http://organisations",
        **{"submission_rate_limit": WIDE_OPEN, **world.overrides.get("requests", {})},
    )
    app = create_app(settings, token_verifier=world.issuer.verifier())
    app.state.settings_for_tests = settings
    # The up-front leave guard asks the real organisations app (over ASGI).
    app.state.organisations_client = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=world.services["organisations"].app),
            base_url="http://organisations",
        )
    )
    return app


async def start_eid_gateway(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_eid_gateway.main import create_app
    from eproc_eid_gateway.settings import ClientConfig, Settings

    app = create_app(
        Settings(
            database_url=url,
            issuer="http://eid-gateway",
            clients=[
                ClientConfig(
                    client_id="edge",
                    client_secret="edge-secret",
                    redirect_uris=["http://edge/callback", f"{EDGE_URL}/login/eid/callback"],
                )
            ],
        )
    )
    # Its own lifespan: the gateway keeps only challenges, codes and its key.
    await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def start_edge(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_edge.identity_port import HttpIdentityPort
    from eproc_edge.main import create_app
    from eproc_edge.settings import ClientConfig, Settings
    from eproc_edge.upstream import UpstreamProvider

    def client(client_id: str, secret: str, application: str) -> ClientConfig:
        base = f"http://{client_id}.rp"
        return ClientConfig(
            client_id=client_id,
            client_secret=secret,
            name=client_id,
            application=application,
            redirect_uris=[f"{base}/callback"],
            post_logout_redirect_uris=[f"{base}/"],
            home_url=f"{base}/",
            login_url=f"{base}/login",
            # The portal's tokens are for the platform's services too (its operator
            # calls the edge's client registry with them).
            resource_servers=["eproc"] if client_id == PORTAL_CLIENT else [],
        )

    settings = Settings(
        database_url=url,
        token_issuer=EDGE_URL,
        jwks_url=f"{EDGE_URL}/jwks",
        clients=[
            client(PORTAL_CLIENT, "portal-secret", "user-management"),
            client(APPLICATION_CLIENT, APPLICATION_SECRET, APPLICATION_CLIENT),
        ],
        identity_url="http://identity",
        upstream_issuer="http://eid-gateway",
        upstream_client_id="edge",
        upstream_client_secret="edge-secret",
        **world.overrides.get("edge", {}),
    )
    # The real identity service behind the edge's login port (over ASGI), called
    # with a client token identity trusts (the world's issuer signs for the edge).
    identity = HttpIdentityPort(
        "http://identity",
        access_token=lambda: world.issuer.client_token(EDGE_CLIENT),
        transport=httpx.ASGITransport(app=world.services["identity"].app),
    )
    stack.push_async_callback(identity.aclose)
    app = create_app(settings, identity=identity)
    app.state.settings_for_tests = settings
    # The real eID gateway as the upstream provider, over ASGI.
    app.state.edge.upstream = UpstreamProvider(
        settings, transport=httpx.ASGITransport(app=world.services["eid-gateway"].app)
    )
    # What the edge's lifespan does first: load (or create) its signing keys, and
    # open its client registry (importing the configured clients).
    from eproc_edge.registry import open_registry

    engine = create_engine(url)
    stack.push_async_callback(engine.dispose)
    sessions = create_session_factory(engine)
    async with unit_of_work(sessions) as session:
        await app.state.edge.keyring.refresh(session, force=True)
    await open_registry(sessions, app.state.edge.directory, settings.clients)
    return app


async def start_notifier(world: World, url: str, stack: AsyncExitStack) -> FastAPI:
    from eproc_notifier.main import create_app
    from eproc_notifier.settings import Settings

    # No API of its own; its consumer and mail sender (the lifespan) do not run here.
    settings = Settings(database_url=url, **world.overrides.get("notifier", {}))
    app = create_app(settings)
    app.state.settings_for_tests = settings
    return app


async def start_portal(world: World, url: str | None, stack: AsyncExitStack) -> FastAPI:
    from eproc_portal.auth import create_oauth
    from eproc_portal.clients.edge import EdgeClient
    from eproc_portal.clients.identity import IdentityClient
    from eproc_portal.clients.organisations import OrganisationsClient
    from eproc_portal.clients.requests import RequestsClient
    from eproc_portal.main import create_app
    from eproc_portal.sessions import MemorySessionStore
    from eproc_portal.settings import Settings
    from eproc_portal.web import Services

    async def over_asgi(name: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=world.services[name].app)
        return await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
        )

    settings = Settings(
        oidc_issuer=EDGE_URL,
        oidc_client_id=PORTAL_CLIENT,
        **world.overrides.get("portal", {}),
    )
    services = Services(
        identity=IdentityClient(await over_asgi("identity")),
        organisations=OrganisationsClient(await over_asgi("organisations")),
        requests=RequestsClient(await over_asgi("requests")),
        edge=EdgeClient(await over_asgi("edge")),
    )
    edge_transport = httpx.ASGITransport(app=world.services["edge"].app)
    if world.portal_sessions is None:
        world.portal_sessions = MemorySessionStore()
    return create_app(
        settings,
        services=services,
        session_store=world.portal_sessions,
        oauth=create_oauth(settings, edge_transport=edge_transport),
    )


StartService = Callable[[World, Any, AsyncExitStack], Awaitable[FastAPI]]

# service name → (Python package with its migrations — None: no database —, starter).
# One line per service, in start order (the edge and the portal call the ones before).
SERVICES: dict[str, tuple[str | None, StartService]] = {
    "identity": ("eproc_identity", start_identity),
    "organisations": ("eproc_organisations", start_organisations),
    "requests": ("eproc_requests", start_requests),
    "eid-gateway": ("eproc_eid_gateway", start_eid_gateway),
    "edge": ("eproc_edge", start_edge),
    "notifier": ("eproc_notifier", start_notifier),
    "portal": (None, start_portal),
}


@asynccontextmanager
async def running_world(
    create_database: CreateDatabase, overrides: dict[str, dict[str, Any]] | None = None
) -> AsyncIterator[World]:
    """Start every landed service on its own fresh database and build the world.

    ``overrides`` are settings per service (``{"requests": {...}}``)."""
    world = World(issuer=TestIssuer(), eid=EidTokens(), overrides=overrides or {})
    async with AsyncExitStack() as stack:
        for name, (package, start) in SERVICES.items():
            if package is None:  # no database (the portal owns nothing durable)
                app = await start(world, None, stack)
                client = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"
                    )
                )
                world.services[name] = Service(name, app, client, None, None, None)
                continue
            url = await create_database(f"adv_{name.replace('-', '_')}")
            await upgrade_async(package, url)
            engine = create_engine(url)
            stack.push_async_callback(engine.dispose)
            sessions = create_session_factory(engine)
            app = await start(world, url, stack)
            if hasattr(app.state, "settings_for_tests"):
                # The state the runtime's lifespan would set, minus the relay and the
                # consumer: the world feeds events to the handlers itself (no bus).
                state = ServiceState(
                    app.state.settings_for_tests,
                    engine,
                    sessions,
                    SimpleNamespace(relay=None),  # type: ignore[arg-type]
                )
                app.state.service = state
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
            world.services[name] = Service(name, app, client, url, engine, sessions)
        await _build(world)
        yield world


async def _build(world: World) -> None:
    for actor in USER_ACTORS:
        world.users[actor], world.usernames[actor] = await world.register_user(
            given_name=actor.replace("_", " ").title().replace(" ", "")
        )
    # The operator is platform staff by identity's own record, not only by a token claim.
    from eproc_identity.service.local_login import set_operator

    world.operator_id, _ = await world.register_user(given_name="Operator")
    identity = world.services["identity"].sessions
    assert identity is not None
    async with unit_of_work(identity) as session:
        await set_operator(session, world.operator_id, True, caller=None, reason="the world")
    parent = await world.create_organisation(world.users["parent_superuser"], None)
    org = await world.create_organisation(world.users["superuser"], parent)
    child = await world.create_organisation(world.users["child_superuser"], org)
    other = await world.create_organisation(world.users["other_superuser"], None)
    world.organisations.update(parent=parent, org=org, child=child, other=other)
    await world.relay_memberships()
    await world.add_member("org", world.users["buyer"])
    await world.add_member("other", world.users["other_buyer"])


# --- snapshots: a rejected request changes nothing ---------------------------------------

# Tables whose rows a rejected request may legitimately touch: identity's login
# throttle counts failures by design (R-LOGIN-3).
SNAPSHOT_IGNORED = {"login_throttle", "alembic_version"}


async def snapshot(service: Service) -> dict[str, list[str]]:
    """Every row of every table of the service, as sorted JSON text."""
    if service.engine is None:
        return {}
    async with service.engine.connect() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " ORDER BY tablename"
                    )
                )
            )
            .scalars()
            .all()
        )
        result: dict[str, list[str]] = {}
        for table in tables:
            if table in SNAPSHOT_IGNORED:
                continue
            query = f'SELECT row_to_json(t)::text FROM "{table}" t'  # noqa: S608 - from pg_tables
            rows = (await conn.execute(text(query))).scalars()
            result[table] = sorted(rows)
    return result


def diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            changed[table] = {"added": sorted(new - old)[:3], "removed": sorted(old - new)[:3]}
    return changed


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, indent=1)
