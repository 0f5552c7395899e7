"""Login through the real edge: authorization code + PKCE, the tokens kept in the
portal's server-side session, the services called with the edge's token, and
logout ending the edge's session too. Local login is used (switched on for the
user by a platform operator), checked by the real identity service."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import KeySet

from eproc_edge.identity_port import POLICY_PATH, Authenticated, HttpIdentityPort, LoginRefused
from eproc_edge.main import create_app as create_edge
from eproc_edge.settings import ClientConfig
from eproc_edge.settings import Settings as EdgeSettings
from eproc_portal.auth import create_oauth
from eproc_portal.clients.edge import EdgeClient
from eproc_portal.main import create_app as create_portal
from eproc_portal.sessions import MemorySessionStore
from eproc_portal.settings import Settings as PortalSettings
from eproc_runtime.auth import Caller, TokenVerifier
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase

from .conftest import Stack

EDGE = "http://edge.test"
PORTAL = "http://portal.test"
PASSWORD = "correct horse battery staple"


class EitherVerifier:
    """The services trust the test issuer (other tests) and the real edge (these)."""

    def __init__(self, *verifiers: Any) -> None:
        self.verifiers = verifiers

    async def verify(self, token: str) -> Caller:
        error: Exception | None = None
        for verifier in self.verifiers:
            try:
                caller: Caller = await verifier.verify(token)
                return caller
            except Exception as exc:  # try the next issuer
                error = exc
        assert error is not None
        raise error


class IdentityWithEdgeToken:
    """The edge's port to the real identity service in process, with the edge's
    client token minted by the test issuer that identity trusts.

    Identity and the edge disagree on the path today (``/internal/local-login``
    vs ``/internal/password-login``): the port tries identity's first."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _port(self, path: str) -> HttpIdentityPort:
        async def rewrite(request: httpx.Request) -> None:
            if request.url.path == "/internal/password-login":
                request.url = request.url.copy_with(path=path)

        port = HttpIdentityPort(
            "http://identity",
            access_token=lambda: self.stack.issuer.client_token("edge"),
            transport=httpx.ASGITransport(app=self.stack.identity),
        )
        port._client.event_hooks["request"].append(rewrite)
        return port

    async def check_password(
        self, username: str, password: str, source_ip: str, device_token: str | None = None
    ) -> Authenticated | LoginRefused:
        try:
            return await self._port("/internal/local-login").check_password(
                username, password, source_ip, device_token
            )
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 404:
                raise
            return await self._port("/internal/password-login").check_password(
                username, password, source_ip, device_token
            )

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None:
        return await self._port("/internal/eid-login").find_by_eid_subject(subject)

    async def password_login_for_everyone(self) -> bool:
        return await self._port(POLICY_PATH).password_login_for_everyone()


@dataclass
class LoginSetup:
    edge: FastAPI
    portal: FastAPI
    store: MemorySessionStore


@pytest.fixture(scope="module")
async def login_setup(stack: Stack, create_database: CreateDatabase) -> AsyncIterator[LoginSetup]:
    url = await create_database("portal_edge")
    await upgrade_async("eproc_edge", url)
    portal_client = ClientConfig(
        client_id="portal",
        client_secret="portal-secret",
        name="User management",
        application="user-management",
        redirect_uris=[f"{PORTAL}/auth/callback"],
        post_logout_redirect_uris=[f"{PORTAL}/"],
        home_url=f"{PORTAL}/",
        login_url=f"{PORTAL}/auth/login",
        resource_servers=["eproc"],
    )
    edge = create_edge(
        EdgeSettings(
            database_url=url,
            token_issuer=EDGE,
            clients=[portal_client],
            first_login_url=f"{PORTAL}/welcome",
            registration_url=f"{PORTAL}/register",
            **stack.bus_settings,
        ),
        identity=IdentityWithEdgeToken(stack),
    )
    store = MemorySessionStore()
    settings = PortalSettings(
        public_url=PORTAL,
        oidc_issuer=EDGE,
        oidc_client_id="portal",
        oidc_client_secret="portal-secret",
        oidc_redirect_uri=f"{PORTAL}/auth/callback",
        log_json=True,
    )
    services = stack.services()
    services.edge = EdgeClient(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=edge), base_url=EDGE)
    )
    portal = create_portal(
        settings,
        services=services,
        session_store=store,
        oauth=create_oauth(settings, edge_transport=httpx.ASGITransport(app=edge)),
    )
    async with edge.router.lifespan_context(edge), portal.router.lifespan_context(portal):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=edge)) as http:
            jwks = (await http.get(f"{EDGE}/jwks")).json()
        edge_verifier = TokenVerifier(
            issuer=EDGE, client_id="eproc", keys=KeySet.import_key_set(jwks)
        )
        previous = {}
        for app in (stack.identity, stack.organisations, stack.requests):
            previous[app] = app.state.token_verifier
            app.state.token_verifier = EitherVerifier(app.state.token_verifier, edge_verifier)
        try:
            yield LoginSetup(edge, portal, store)
        finally:
            for app, verifier in previous.items():
                app.state.token_verifier = verifier


class Browser:
    """Follows redirects across the portal and the edge, keeping each one's cookies."""

    def __init__(self, setup: LoginSetup, language: str) -> None:
        headers = {"Accept-Language": language}
        self.portal = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=setup.portal), base_url=PORTAL, headers=headers
        )
        self.edge = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=setup.edge), base_url=EDGE, headers=headers
        )

    def _client(self, url: str) -> httpx.AsyncClient:
        return self.edge if url.startswith(EDGE) else self.portal

    async def go(
        self, url: str, *, method: str = "GET", data: Any = None, hops: int = 10
    ) -> httpx.Response:
        response = await self._client(url).request(method, url, data=data)
        while response.is_redirect and hops > 0:
            location = str(response.next_request.url) if response.next_request else ""
            response = await self._client(location).get(location)
            hops -= 1
        return response

    async def password_form(self, login_url: str) -> httpx.Response:
        """The edge's login page offers eID; local login is off for everyone, so
        the password form is behind its link (R-LOGIN-2): follow it."""
        login_page = await self.go(login_url)
        assert login_page.status_code == 200
        assert 'name="password"' not in login_page.text
        link = re.search(r'href="(/login/password\?[^"]+)"', login_page.text)
        assert link is not None, login_page.text
        return await self.go(EDGE + html.unescape(link.group(1)))

    async def close(self) -> None:
        await self.portal.aclose()
        await self.edge.aclose()


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the edge's login form (return address, CSRF token)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=.hidden.[^>]*>", page):
        name = re.search(r"name=['\"]([^'\"]+)", tag)
        value = re.search(r"value=['\"]([^'\"]*)", tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1) if value else "")
    return fields


async def enable_local_login(stack: Stack, user_id: str) -> None:
    helpdesk = await stack.register(given_name="Hilde", family_name="Helpdesk")
    token = await stack.make_operator(UUID(helpdesk["id"]))
    async with stack.services().identity.http as http:
        response = await http.put(
            f"/users/{user_id}/local-login",
            headers={"Authorization": f"Bearer {token}"},
            json={"enabled": True, "reason": "portal login test"},
        )
    assert response.status_code == 200, response.text


async def test_login_with_pkce_keeps_tokens_server_side_and_calls_the_services(
    stack: Stack, login_setup: LoginSetup
) -> None:
    user = await stack.register(given_name="Lotte", family_name="Claes", password=PASSWORD)
    await enable_local_login(stack, user["id"])
    await wait_for_memberships(login_setup, user["id"], 0)
    browser = Browser(login_setup, "nl")
    try:
        start = await browser.portal.get("/auth/login")
        assert start.status_code in {302, 303}
        authorize = urlsplit(start.headers["location"])
        query = parse_qs(authorize.query)
        assert f"{authorize.scheme}://{authorize.netloc}" == EDGE
        assert query["code_challenge_method"] == ["S256"]
        assert query["client_id"] == ["portal"]
        assert query["redirect_uri"] == [f"{PORTAL}/auth/callback"]
        # The verifier stays in the server-side session; the cookie is opaque.
        cookie = browser.portal.cookies.get("eproc_portal")
        assert cookie and "." not in cookie
        session = login_setup.store.load(cookie)
        assert session is not None
        stored = next(v for k, v in session.items() if k.startswith("_state_edge_"))
        verifier = stored["data"]["code_verifier"]
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        assert digest.rstrip(b"=").decode() == query["code_challenge"][0]

        login_page = await browser.password_form(start.headers["location"])
        assert login_page.status_code == 200
        landed = await browser.go(
            f"{EDGE}/login/local",
            method="POST",
            data={**hidden_fields(login_page.text), "username": user["username"], "password": "x"},
        )
        assert landed.status_code == 401, (landed.url, landed.text[200:1200])
        # A wrong password changed nothing in the portal: still anonymous.
        assert "tokens" not in (login_setup.store.load(cookie) or {})

        # The right one: back to the portal's callback, then (no organisation yet)
        # the first-login choice, with the edge's token used against the services.
        welcome = await browser.go(
            f"{EDGE}/login/local",
            method="POST",
            data={
                **hidden_fields(landed.text),
                "username": user["username"],
                "password": PASSWORD,
            },
        )
        assert welcome.status_code == 200, welcome.text[:500]
        assert str(welcome.url) == f"{PORTAL}/welcome"
        text = html.unescape(welcome.text)
        assert "Ik wil toetreden tot een organisatie" in text
        assert "U bent aangemeld als <strong>Lotte Claes</strong>" in text
        # A new session id after login (no fixation), holding the tokens server-side.
        new_cookie = browser.portal.cookies.get("eproc_portal")
        assert new_cookie and new_cookie != cookie
        assert login_setup.store.load(cookie) is None
        session = login_setup.store.load(new_cookie)
        assert session is not None
        assert session["user"]["id"] == user["id"]
        assert session["tokens"]["access_token"] not in welcome.text
        profile = await browser.go(f"{PORTAL}/profile")
        assert user["username"] in profile.text

        # Logout: the portal forgets the session and sends the browser to the edge.
        form = await browser.portal.get("/profile")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        out = await browser.portal.post("/auth/logout", data={"csrf_token": csrf.group(1)})
        assert out.status_code == 303
        assert out.headers["location"].startswith(f"{EDGE}/logout?")
        assert "id_token_hint=" in out.headers["location"]
        assert login_setup.store.load(new_cookie) is None
        after = await browser.portal.get("/profile")
        assert after.status_code == 303 and after.headers["location"].startswith("/auth/login")
    finally:
        await browser.close()


async def wait_for_memberships(setup: LoginSetup, user_id: str, count: int) -> None:
    """Until the edge's claims projection (fed by the bus) knows the user's name
    and ``count`` memberships."""
    from eproc_runtime.db import unit_of_work

    edge = setup.edge.state.edge

    async def known() -> bool:
        async with unit_of_work(setup.edge.state.service.sessions) as session:
            snapshot = await edge.cache.get(session, UUID(user_id))
        return bool(snapshot.name) and len(snapshot.memberships) >= count

    await eventually(known, what="the edge to see the memberships")


async def test_top_bar_and_change_organisation(stack: Stack, login_setup: LoginSetup) -> None:
    from joserfc import jwt as jose_jwt

    user = await stack.register(given_name="Wim", family_name="Goossens", password=PASSWORD)
    await enable_local_login(stack, user["id"])
    first = await stack.organisation("Gemeente Ranst", superuser=UUID(user["id"]))
    second = await stack.organisation("OCMW Ranst", superuser=UUID(user["id"]))
    await wait_for_memberships(login_setup, user["id"], 2)
    browser = Browser(login_setup, "nl")
    try:
        start = await browser.portal.get("/auth/login")
        login_page = await browser.password_form(start.headers["location"])
        home = await browser.go(
            f"{EDGE}/login/local",
            method="POST",
            data={
                **hidden_fields(login_page.text),
                "username": user["username"],
                "password": PASSWORD,
            },
        )
        assert str(home.url) == f"{PORTAL}/home", home.text[:300]
        text = html.unescape(home.text)
        assert "U bent aangemeld als <strong>Wim Goossens</strong>" in text
        assert 'href="/change-organisation"' in text
        session = login_setup.store.load(browser.portal.cookies["eproc_portal"])
        assert session is not None
        active = session["active_organisation"]["id"]
        other = second if active == first["id"] else first
        page = await browser.portal.get("/change-organisation")
        assert page.status_code == 200
        assert "Organisatie wijzigen" in html.unescape(page.text)
        assert f'value="{active}" checked' in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        wrong = await browser.portal.post(
            "/change-organisation", data={"csrf_token": csrf.group(1), "organisation_id": "x"}
        )
        assert wrong.status_code == 422
        assert "Kies een van de mogelijkheden." in html.unescape(wrong.text)
        changed = await browser.portal.post(
            "/change-organisation",
            data={"csrf_token": csrf.group(1), "organisation_id": other["id"]},
        )
        assert changed.status_code == 303
        after = await browser.go(f"{PORTAL}/home")
        assert after.status_code == 200
        assert "Gemeente Ranst" in after.text or "OCMW Ranst" in after.text
        session = login_setup.store.load(browser.portal.cookies["eproc_portal"])
        assert session is not None
        assert session["active_organisation"]["id"] == other["id"]
        # The token was refreshed and now names the new active organisation (R-SSO-4).
        claims = jose_jwt.decode(
            session["tokens"]["access_token"],
            KeySet.import_key_set((await browser.edge.get("/jwks")).json()),
        ).claims
        assert claims["org_id"] == other["id"]
    finally:
        await browser.close()
