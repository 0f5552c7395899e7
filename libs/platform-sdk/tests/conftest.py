"""A real edge (uvicorn on a free port, fresh PostgreSQL, real Kafka) with a stand-in
identity port, and a browser-like helper that logs a user in and returns tokens."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from eproc_edge.main import create_app
from eproc_edge.settings import ClientConfig, Settings
from eproc_edge_testkit import EdgeWorld, FakeIdentity, LocalUser, client_config
from eproc_runtime.db import unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving

APPS = ["e-tendering", "e-catalogue", "e-awarding"]
SNIPPETS = Path(__file__).parent / "snippets"


def registered_client() -> ClientConfig:
    """The client the guide registers (docs/integrating.md, "Register an application")."""
    return ClientConfig.model_validate_json((SNIPPETS / "client.json").read_text())


class EdgeServer(EdgeWorld):
    """The running edge, with the token flows the SDK's tests need."""

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

    async def tokens(self, user: LocalUser, client_id: str) -> dict[str, Any]:
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
    async with serving(app, port):
        yield EdgeServer(base_url, app, identity, settings)
