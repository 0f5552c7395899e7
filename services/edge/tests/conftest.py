"""Fixtures of the edge's tests: a real edge (uvicorn, PostgreSQL, Kafka) with a fake
identity port (the true boundary), and a browser-like login helper."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

import eproc_edge_testkit as testing
from eproc_contracts import assurance
from eproc_edge.api import Edge
from eproc_edge.main import create_app
from eproc_edge.settings import ClientConfig, Settings
from eproc_edge_testkit import EdgeWorld, FakeIdentity
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving

APPS = ["portal", "e-notification", "e-tendering", "e-awarding", "e-catalogue"]
APPLICATION_OF = {"portal": "user-management"}


def tiny_upstream_op(issuer: str) -> FastAPI:
    """The external eID service's stand-in: an OpenID Provider that authenticates
    whoever ``app.state.subject`` names, with PKCE and an ES256 id_token."""
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    pending: dict[str, dict[str, str]] = {}
    app = FastAPI()
    app.state.subject = "nobody"
    app.state.forge_nonce = False  # answer with someone else's nonce (a replayed token)
    app.state.acr = assurance.EID  # the level its id_tokens state (None: states none)
    app.state.requests = []  # the authorization requests it saw, newest last

    @app.get("/.well-known/openid-configuration")
    async def metadata() -> dict[str, str]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return dict(KeySet([key]).as_dict(private=False))

    @app.get("/authorize")
    async def authorize(request: Request) -> RedirectResponse:
        q = request.query_params
        app.state.requests.append(dict(q))
        code = secrets.token_urlsafe(16)
        pending[code] = {
            "nonce": q["nonce"],
            "challenge": q["code_challenge"],
            "client_id": q["client_id"],
            "sub": app.state.subject,
        }
        return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}", 302)

    @app.post("/token")
    async def token(request: Request) -> dict[str, Any]:
        form = await request.form()
        grant = pending.pop(str(form["code"]))
        digest = hashlib.sha256(str(form["code_verifier"]).encode()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == grant["challenge"]
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": grant["client_id"],
            "sub": grant["sub"],
            "nonce": "someone-else" if app.state.forge_nonce else grant["nonce"],
            "iat": now,
            "exp": now + 60,
            "auth_time": now,
            **({"acr": app.state.acr} if app.state.acr else {}),
        }
        id_token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
        return {"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}

    return app


def client_config(client_id: str) -> ClientConfig:
    return testing.client_config(client_id, APPLICATION_OF.get(client_id))


@dataclass
class EdgeServer(EdgeWorld):
    upstream: FastAPI
    logout_tokens: list[str]

    @property
    def edge(self) -> Edge:
        return self.app.state.edge  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def edge_server(
    create_database: CreateDatabase, kafka_bootstrap: str
) -> AsyncIterator[EdgeServer]:
    url = await create_database("edge")
    await upgrade_async("eproc_edge", url)
    port = infra.free_port()
    base_url = f"http://127.0.0.1:{port}"
    upstream_port = infra.free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    upstream = tiny_upstream_op(upstream_url)
    servers = AsyncExitStack()
    await servers.enter_async_context(serving(upstream, upstream_port))
    # An application's back end that receives back-channel logout tokens.
    logout_tokens: list[str] = []
    receiver = FastAPI()

    @receiver.post("/backchannel-logout")
    async def backchannel_logout(request: Request) -> dict[str, str]:
        logout_tokens.append(str((await request.form())["logout_token"]))
        return {}

    receiver_port = infra.free_port()
    await servers.enter_async_context(serving(receiver, receiver_port))
    clients = [client_config(c) for c in APPS]
    # A client without refresh tokens: its codes must be single-use all the same.
    no_refresh = client_config("e-notification")
    no_refresh.client_id = "no-refresh"
    no_refresh.client_secret = "secret-no-refresh"
    no_refresh.redirect_uris = ["http://rp.test/no-refresh/callback"]
    no_refresh.grant_types = ["authorization_code"]
    clients.append(no_refresh)
    # e-Tendering's opening of tenders: only after an eID login (issue 20).
    opening = client_config("tender-opening")
    opening.minimum_acr = assurance.EID
    clients.append(opening)
    clients[
        APPS.index("e-catalogue")
    ].backchannel_logout_uri = f"http://127.0.0.1:{receiver_port}/backchannel-logout"
    settings = Settings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        token_issuer=base_url,
        session_cookie_secure=False,
        clients=clients,
        consumer_retry_backoff=0.05,
        log_json=False,
        log_level="WARNING",
        upstream_issuer=upstream_url,
        upstream_client_id="edge-test",
    )
    identity = FakeIdentity()
    app = create_app(settings, identity=identity)
    async with servers, serving(app, port):
        yield EdgeServer(base_url, app, identity, settings, upstream, logout_tokens)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Browser:
    """A browser with a cookie jar that logs in through the local-login form."""

    server: EdgeServer
    http: httpx.AsyncClient

    async def login_form(
        self, username: str, password: str, return_to: str = "/authorize?x=1"
    ) -> httpx.Response:
        """Open the login page, then submit its form."""
        page = await self.http.get(f"{self.server.base_url}/login")
        csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
        assert csrf is not None
        return await self.http.post(
            f"{self.server.base_url}/login/local",
            data={
                "username": username,
                "password": password,
                "return_to": return_to,
                "csrf": csrf.group(1),
            },
        )

    async def login(self, username: str, password: str) -> None:
        response = await self.login_form(username, password)
        assert response.status_code == 303, response.text

    async def logout(self) -> httpx.Response:
        """Log out without an id_token_hint: the edge asks first; confirm its form."""
        asked = await self.http.get(f"{self.server.base_url}/logout")
        assert asked.status_code == 200 and "alle toepassingen" in asked.text, asked.text
        csrf = re.search(r"name='csrf' value='([^']+)'", asked.text)
        assert csrf is not None
        return await self.http.post(f"{self.server.base_url}/logout", data={"csrf": csrf.group(1)})

    async def authorize(self, client_id: str, **extra: str) -> dict[str, Any]:
        """Run the authorization request; return the callback's query parameters
        plus the verifier, or the edge's error response."""
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": f"http://rp.test/{client_id}/callback",
            "scope": "openid profile email offline_access",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        params = {k: v for k, v in params.items() if v != ""}
        response = await self.http.get(f"{self.server.base_url}/authorize?{urlencode(params)}")
        location = response.headers.get("location", "")
        result: dict[str, Any] = {"status": response.status_code, "location": location}
        if response.status_code == 302 and location.startswith("http://rp.test/"):
            result.update({k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})
        elif response.status_code >= 400:
            result["body"] = response.json()
        result["verifier"] = verifier
        result["redirect_uri"] = params.get("redirect_uri")
        return result

    async def tokens(self, client_id: str) -> dict[str, Any]:
        """Log-in-free authorization (the session exists) and the code exchange."""
        result = await self.authorize(client_id)
        assert "code" in result, result
        response = await self.http.post(
            f"{self.server.base_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": result["code"],
                "redirect_uri": result["redirect_uri"],
                "code_verifier": result["verifier"],
            },
            auth=(client_id, f"secret-{client_id}"),
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
async def browser(edge_server: EdgeServer) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        yield Browser(edge_server, http)


def resolve(base: str, location: str) -> str:
    return urljoin(base + "/", location)
