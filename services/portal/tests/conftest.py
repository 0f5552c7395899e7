"""Fixtures of the portal's tests: the real identity, organisations and requests
services (each on its own PostgreSQL database, sharing one in-process bus),
called in process through httpx's ASGI transport, and the portal in front."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.main import create_app as create_identity
from eproc_identity.settings import Settings as IdentitySettings
from eproc_organisations.main import create_app as create_organisations
from eproc_organisations.settings import Settings as OrganisationsSettings
from eproc_portal.clients.identity import IdentityClient
from eproc_portal.clients.organisations import OrganisationsClient
from eproc_portal.clients.requests import RequestsClient
from eproc_portal.main import create_app as create_portal
from eproc_portal.sessions import MemorySessionStore
from eproc_portal.settings import Settings as PortalSettings
from eproc_portal.web import Services
from eproc_requests.main import create_app as create_requests
from eproc_requests.settings import Settings as RequestsSettings
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving
from eproc_runtime.testing.tokens import TestIssuer

# The browser tests' fixtures (Chromium, the portal served by uvicorn), for every module.
from .browser_kit import browser, chromium, portal_url  # noqa: F401

EID_ISSUER = "https://eid.test.invalid"
_numbers = itertools.count(1)


class EidCard:
    """Signs ID tokens the way the eID gateway does after reading a card."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
        self.keys = KeySet([self.key])

    def verifier(self) -> EidTokenVerifier:
        public = KeySet.import_key_set(self.keys.as_dict(private=False))
        return EidTokenVerifier(issuer=EID_ISSUER, audience="portal", keys=public)

    def id_token(self, given_name: str = "Jan", family_name: str = "Peeters") -> str:
        now = int(time.time())
        claims = {
            "iss": EID_ISSUER,
            "aud": "portal",
            "sub": uuid.uuid4().hex,  # a keyed hash of the national number, per card
            "given_name": given_name,
            "family_name": family_name,
            "acr": "urn:be:fedict:iam:fas:Level500",
            "iat": now - 1,
            "exp": now + 600,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)


@dataclass
class Stack:
    """The services the portal calls, running in this process."""

    identity: FastAPI
    organisations: FastAPI
    requests: FastAPI
    issuer: TestIssuer
    card: EidCard
    bus_settings: dict[str, Any] = field(default_factory=dict)
    operator_id: UUID = field(default_factory=uuid.uuid4)

    def services(self) -> Services:
        def client(app: FastAPI, name: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"
            )

        return Services(
            identity=IdentityClient(client(self.identity, "identity")),
            organisations=OrganisationsClient(client(self.organisations, "organisations")),
            requests=RequestsClient(client(self.requests, "requests")),
        )

    async def register(self, **overrides: Any) -> dict[str, Any]:
        """A registered user, through the identity API."""
        n = next(_numbers)
        names = {k: overrides.pop(k) for k in ("given_name", "family_name") if k in overrides}
        form = {
            "id_token": self.card.id_token(**names),
            "email": f"buyer{n}@example.be",
            "language": "nl",
            "phone": "02 511 11 11",
            "username": f"buyer{n}.{uuid.uuid4().hex[:6]}",
            "password": f"a long pass phrase {uuid.uuid4().hex[:8]}",
            **overrides,
        }
        async with self.services().identity.http as http:
            response = await http.post("/registrations", json=form)
        assert response.status_code == 201, response.text
        profile: dict[str, Any] = response.json()
        return profile

    async def make_operator(self, user_id: UUID) -> str:
        """Make a registered user platform staff in identity's record; their token."""
        from eproc_identity.service.local_login import set_operator
        from eproc_runtime.db import unit_of_work

        async with unit_of_work(self.identity.state.service.sessions) as session:
            await set_operator(session, user_id, True, caller=None, reason="portal test")
        return self.issuer.user_token(user_id, operator=True)

    async def organisation(
        self, name: str, *, parent: UUID | None = None, superuser: UUID | None = None
    ) -> dict[str, Any]:
        """An organisation added by a platform operator."""
        n = next(_numbers)
        body = 1000000 + n * 7919 % 8999999
        number = f"0{body:07d}"[:8]
        number = f"{number}{97 - int(number) % 97:02d}"
        token = self.issuer.user_token(self.operator_id, operator=True)
        async with self.services().organisations.http as http:
            response = await http.post(
                "/operator/organisations",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "parent_id": str(parent) if parent else None,
                    "names": {"nl": name, "fr": f"{name} (fr)"},
                    "enterprise_number": number,
                    "address": {
                        "street": "Wetstraat",
                        "number": "1",
                        "postcode": "1000",
                        "municipality": "Brussel",
                    },
                    "superuser_id": str(superuser) if superuser else None,
                },
            )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def stack(
    create_database: CreateDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    bus: Path = tmp_path_factory.mktemp("portal-bus")
    common: dict[str, Any] = {
        "bus": "inprocess",
        "bus_database_url": f"sqlite+aiosqlite:///{bus}/bus.db",
        "relay_idle_interval": 0.02,
        "consumer_retry_backoff": 0.01,
        "topic_prefix": f"portal{uuid.uuid4().hex[:6]}.",
    }
    urls = {}
    for package, label in (
        ("eproc_identity", "portal_identity"),
        ("eproc_organisations", "portal_orgs"),
        ("eproc_requests", "portal_requests"),
    ):
        urls[package] = await create_database(label)
        await upgrade_async(package, urls[package])
    issuer = TestIssuer()
    card = EidCard()
    identity = create_identity(
        IdentitySettings(
            database_url=urls["eproc_identity"],
            argon2_time_cost=1,
            argon2_memory_cost=1024,
            argon2_parallelism=1,
            **common,
        ),
        token_verifier=issuer.verifier(),
        eid_token_verifier=card.verifier(),
    )
    organisations = create_organisations(
        OrganisationsSettings(database_url=urls["eproc_organisations"], **common),
        token_verifier=issuer.verifier(),
    )
    # The requests service asks organisations over HTTP whether a leave is
    # allowed (R-REQ-8): organisations also listens on a real port.
    guard_port = free_port()
    requests = create_requests(
        RequestsSettings(
            database_url=urls["eproc_requests"],
            reminder_job_enabled=False,
            organisations_url=f"http://127.0.0.1:{guard_port}",
            **common,
        ),
        token_verifier=issuer.verifier(),
    )
    async with AsyncExitStack() as running:
        for app in (identity, organisations, requests):
            await running.enter_async_context(_running(app))
        await running.enter_async_context(serving(organisations, guard_port, lifespan="off"))
        yield Stack(identity, organisations, requests, issuer, card, common)
    from eproc_runtime.messaging import _log_brokers

    for broker in _log_brokers.values():
        await broker.stop()
    _log_brokers.clear()


@dataclass
class Portal:
    app: FastAPI
    store: MemorySessionStore
    stack: Stack

    def client(self, language: str | None = None) -> httpx.AsyncClient:
        headers = {"Accept-Language": language} if language else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://portal.test",
            headers=headers,
        )

    def seed(self, client: httpx.AsyncClient, data: dict[str, Any]) -> str:
        """Give the client a server-side session holding ``data``."""
        session_id = uuid.uuid4().hex
        self.store.save(session_id, {"csrf": "test-csrf-token", **data}, 3600)
        client.cookies.set("eproc_portal", session_id, domain="portal.test")
        return session_id

    def login(
        self,
        client: httpx.AsyncClient,
        user: dict[str, Any],
        *,
        organisation: UUID | None = None,
        language: str | None = None,
    ) -> None:
        """A logged-in session as the OIDC callback leaves it, with a test token."""
        token = self.stack.issuer.user_token(UUID(user["id"]), organisation=organisation)
        self.seed(
            client,
            {
                "user": {
                    "id": user["id"],
                    "name": f"{user['given_name']} {user['family_name']}",
                    "language": language,
                },
                "tokens": {"access_token": token, "expires_at": int(time.time()) + 3600},
            },
        )

    def session(self, client: httpx.AsyncClient) -> dict[str, Any] | None:
        session_id = client.cookies.get("eproc_portal")
        return self.store.load(session_id) if session_id else None


CSRF = "test-csrf-token"


@pytest.fixture(scope="session")
async def portal(stack: Stack) -> AsyncIterator[Portal]:
    store = MemorySessionStore()
    app = create_portal(
        PortalSettings(log_json=True, oidc_issuer="https://sso.test.invalid"),
        services=stack.services(),
        session_store=store,
    )
    async with app.router.lifespan_context(app):
        yield Portal(app, store, stack)
