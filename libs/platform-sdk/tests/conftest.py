"""A real edge (uvicorn on a free port, fresh PostgreSQL, real Kafka) with a stand-in
identity port, and a browser-like helper that logs a user in and returns tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from eproc_contracts import events as ev
from eproc_contracts.common import Address, Language, LocalisedName, RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_edge.consumers import make_handlers
from eproc_edge.identity_port import Authenticated, LoginRefused
from eproc_edge.main import create_app
from eproc_edge.settings import ClientConfig, Settings
from eproc_runtime.db import unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.plugin import CreateDatabase

APPS = ["e-tendering", "e-catalogue", "e-awarding"]


@dataclass
class FakeIdentity:
    users: dict[str, tuple[str, UUID]] = field(default_factory=dict)

    async def check_password(
        self, username: str, password: str, source_ip: str
    ) -> Authenticated | LoginRefused:
        known = self.users.get(username)
        if known is None or known[0] != password:
            return LoginRefused("invalid_credentials", 401)
        return Authenticated(known[1])

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None:
        return None


def client_config(client_id: str) -> ClientConfig:
    base = f"http://rp.test/{client_id}"
    return ClientConfig(
        client_id=client_id,
        client_secret=f"secret-{client_id}",
        name=client_id,
        application=client_id,
        redirect_uris=[f"{base}/callback"],
        post_logout_redirect_uris=[f"{base}/"],
        home_url=f"{base}/",
        login_url=f"{base}/login",
    )


SNIPPETS = Path(__file__).parent / "snippets"


def registered_client() -> ClientConfig:
    """The client the guide registers (docs/integrating.md, "Register an application")."""
    return ClientConfig.model_validate_json((SNIPPETS / "client.json").read_text())


@dataclass
class EdgeServer:
    base_url: str
    app: FastAPI
    identity: FakeIdentity
    settings: Settings

    async def publish_locally(self, *payloads: Payload) -> None:
        """Feed events to the edge's own handlers (as its consumer would)."""
        handlers = make_handlers()
        for payload in payloads:
            envelope = Envelope.wrap(payload, producer="test")
            async with unit_of_work(self.app.state.service.sessions) as session:
                await handlers[payload.EVENT_TYPE](session, envelope)

    async def create_organisation(self, name: str) -> UUID:
        org = uuid.uuid4()
        await self.publish_locally(
            ev.OrganisationRegistered(
                organisation_id=org,
                parent_id=None,
                names=LocalisedName(nl=name),
                enterprise_number="0" + str(secrets.randbelow(10**9)).zfill(9),
                address=Address(street="Wetstraat", postcode="1000", municipality="Brussel"),
            )
        )
        return org

    async def create_user(self, memberships: dict[UUID, list[tuple[str, str]]]) -> User:
        user_id = uuid.uuid4()
        username = f"user{user_id.hex[:8]}"
        password = secrets.token_urlsafe(12)
        self.identity.users[username] = (password, user_id)
        events: list[Payload] = [
            ev.UserRegistered(
                user_id=user_id,
                username=username,
                given_name="Ann",
                family_name="Peeters",
                email=f"{username}@example.be",
                language=Language.NL,
                phone="+32 9 123 45 67",
            )
        ]
        events += [
            ev.MembershipGranted(
                user_id=user_id,
                organisation_id=org,
                roles=[RoleGrant(application=a, role=r) for a, r in roles],
            )
            for org, roles in memberships.items()
        ]
        if memberships:
            events.append(
                ev.DefaultOrganisationChanged(
                    user_id=user_id, organisation_id=next(iter(memberships))
                )
            )
        await self.publish_locally(*events)
        return User(user_id, username, password)

    async def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any]:
        """The refresh-token grant (after "change organisation")."""
        client = next(c for c in self.settings.clients if c.client_id == client_id)
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{self.base_url}/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=(client_id, str(client.client_secret)),
            )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def rotate_keys(self) -> None:
        """Make the edge sign with a new key from now on (the old one stays published)."""
        async with unit_of_work(self.app.state.service.sessions) as session:
            await self.app.state.edge.keyring.rotate(session)

    async def tokens(self, user: User, client_id: str) -> dict[str, Any]:
        """Log ``user`` in through the login form and run code + PKCE for ``client_id``."""
        async with httpx.AsyncClient(timeout=10) as http:
            page = await http.get(f"{self.base_url}/login")
            csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
            assert csrf is not None
            done = await http.post(
                f"{self.base_url}/login/local",
                data={
                    "username": user.username,
                    "password": user.password,
                    "return_to": "/authorize?x=1",
                    "csrf": csrf.group(1),
                },
            )
            assert done.status_code == 303, done.text
            verifier = secrets.token_urlsafe(48)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            client = next(c for c in self.settings.clients if c.client_id == client_id)
            redirect_uri = client.redirect_uris[0]
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "scope": "openid profile email offline_access",
                    "state": secrets.token_urlsafe(8),
                    "nonce": secrets.token_urlsafe(8),
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
            answer = await http.get(f"{self.base_url}/authorize?{query}")
            location = answer.headers["location"]
            assert "code=" in location, location
            code = parse_qs(urlsplit(location).query)["code"][0]
            response = await http.post(
                f"{self.base_url}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(client_id, str(client.client_secret)),
            )
            assert response.status_code == 200, response.text
            return dict(response.json())


@dataclass(frozen=True)
class User:
    id: UUID
    username: str
    password: str


async def serve(app: FastAPI, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    return server, task


@pytest.fixture(scope="session")
async def edge_server(
    create_database: CreateDatabase, kafka_bootstrap: str
) -> AsyncIterator[EdgeServer]:
    url = await create_database("sdk_edge")
    await upgrade_async("eproc_edge", url)
    port = infra.free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        token_issuer=base_url,
        session_cookie_secure=False,
        clients=[client_config(c) for c in APPS] + [registered_client()],
        log_json=False,
        log_level="WARNING",
    )
    identity = FakeIdentity()
    app = create_app(settings, identity=identity)
    server, task = await serve(app, port)
    yield EdgeServer(base_url, app, identity, settings)
    server.should_exit = True
    await task
