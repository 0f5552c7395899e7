"""An application's roles are declared with its registration (SPEC §4, R-APP-1, issue 20)
and count everywhere without a restart, over real Kafka and PostgreSQL: the edge, the
organisations service and the requests service, each with its own database, talk only
through the bus.

An operator registers an application with two roles in the edge's client registry; both
appear in the role catalogue the portal's pickers read; a buyer asks to join an
organisation with one of them; its Superuser approves; the buyer's token for that
application carries the role. Disabled, the application's roles are no longer offered
(a new request for them is refused field by field) while the buyer keeps the one held.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID, uuid4

import httpx
import pytest

from eproc_edge.main import create_app as create_edge_app
from eproc_edge.settings import Settings as EdgeSettings
from eproc_edge_testkit import EdgeWorld, FakeIdentity, client_config
from eproc_organisations.main import create_app as create_organisations_app
from eproc_organisations.settings import Settings as OrganisationsSettings
from eproc_requests.main import create_app as create_requests_app
from eproc_requests.settings import Settings as RequestsSettings
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving
from eproc_runtime.testing.tokens import TestIssuer

ADDRESS = {"street": "Wetstraat", "number": "16", "postcode": "1000", "municipality": "Brussel"}


def _role(role_id: str, nl: str, fr: str, de: str, en: str, does: str) -> dict[str, Any]:
    return {
        "id": role_id,
        "names": {"nl": nl, "fr": fr, "de": de, "en": en},
        "descriptions": {
            language: [f"{does} ({language})"] for language in ("nl", "fr", "de", "en")
        },
    }


ROLES = [
    _role("inspector", "Keurder", "Inspecteur", "Prüfer", "Inspector", "Inspect deliveries"),
    _role("approver", "Goedkeurder", "Approbateur", "Genehmiger", "Approver", "Approve orders"),
]


def _enterprise_number() -> str:
    body = 10_000_000 + uuid4().int % 9_000_000
    return f"{body:08d}{97 - body % 97:02d}"


@dataclass
class Platform:
    edge: EdgeWorld
    edge_http: httpx.AsyncClient
    organisations: httpx.AsyncClient
    requests: httpx.AsyncClient
    issuer: TestIssuer

    def auth(self, user: UUID, *, operator: bool = False) -> dict[str, str]:
        """A token of the platform's services' audience (what the portal sends)."""
        return {"Authorization": f"Bearer {self.issuer.user_token(user, operator=operator)}"}

    async def login(self, browser: httpx.AsyncClient, username: str, password: str) -> None:
        page = await browser.get(f"{self.edge.base_url}/login")
        csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
        assert csrf is not None
        response = await browser.post(
            f"{self.edge.base_url}/login/local",
            data={
                "username": username,
                "password": password,
                "return_to": "/authorize?x=1",
                "csrf": csrf.group(1),
            },
        )
        assert response.status_code == 303, response.text

    async def tokens(
        self, browser: httpx.AsyncClient, client_id: str, redirect_uri: str, secret: str
    ) -> dict[str, Any]:
        """The authorization code flow with PKCE of a logged-in browser, and the exchange."""
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        answer = await browser.get(f"{self.edge.base_url}/authorize?{urlencode(query)}")
        location = answer.headers.get("location", "")
        assert answer.status_code == 302 and location.startswith(redirect_uri), answer.text
        code = parse_qs(urlsplit(location).query)["code"][0]
        exchanged = await browser.post(
            f"{self.edge.base_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
        assert exchanged.status_code == 200, exchanged.text
        return dict(exchanged.json())


@pytest.fixture
async def platform(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[Platform]:
    issuer = TestIssuer()
    urls = {}
    for service in ("edge", "organisations", "requests"):
        urls[service] = await create_database(f"approles_{service}")
        await upgrade_async(f"eproc_{service}", urls[service])
    common: dict[str, Any] = {
        "bus": "kafka",
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topic_prefix,
        "relay_idle_interval": 0.02,
        "consumer_retry_backoff": 0.05,
        "log_level": "WARNING",
        "log_json": False,
    }
    port = infra.free_port()
    edge_url = f"http://127.0.0.1:{port}"
    edge_settings = EdgeSettings(
        database_url=urls["edge"],
        token_issuer=edge_url,
        session_cookie_secure=False,
        clients=[client_config("portal", "user-management")],
        **common,
    )
    identity = FakeIdentity()
    edge_app = create_edge_app(edge_settings, identity=identity)
    organisations_app = create_organisations_app(
        OrganisationsSettings(database_url=urls["organisations"], **common),
        token_verifier=issuer.verifier(),
    )
    requests_app = create_requests_app(
        RequestsSettings(
            database_url=urls["requests"],
            reminder_job_enabled=False,
            organisations_url="http://organisations",
            **common,
        ),
        token_verifier=issuer.verifier(),
    )
    requests_app.state.organisations_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=organisations_app), base_url="http://organisations"
    )
    async with (
        serving(edge_app, port),
        organisations_app.router.lifespan_context(organisations_app),
        requests_app.router.lifespan_context(requests_app),
        httpx.AsyncClient(timeout=10) as edge_http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=organisations_app), base_url="http://organisations"
        ) as organisations,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=requests_app), base_url="http://requests"
        ) as requests,
    ):
        edge = EdgeWorld(edge_url, edge_app, identity, edge_settings)
        yield Platform(edge, edge_http, organisations, requests, issuer)
    await requests_app.state.organisations_client.aclose()


async def test_roles_declared_with_a_new_application_are_asked_for_approved_and_in_its_tokens(
    platform: Platform,
) -> None:
    edge, edge_http = platform.edge, platform.edge_http
    client_id = f"permits-{secrets.token_hex(3)}"
    redirect_uri = f"https://{client_id}.apps.test/callback"

    # An operator registers the application with its two roles, in one step.
    operator = await edge.create_user()
    edge.identity.operators.add(operator.id)
    async with httpx.AsyncClient(timeout=10) as browser:
        await platform.login(browser, operator.username, operator.password)
        portal = await platform.tokens(
            browser, "portal", "http://rp.test/portal/callback", "secret-portal"
        )
    as_operator = {"Authorization": f"Bearer {portal['access_token']}"}
    created = await edge_http.post(
        f"{edge.base_url}/clients",
        headers=as_operator,
        json={
            "client_id": client_id,
            "names": {"nl": "Vergunningen", "fr": "Permis", "de": "Genehmigungen", "en": "Permits"},
            "redirect_uris": [redirect_uri],
            "home_url": f"https://{client_id}.apps.test/",
            "login_url": f"https://{client_id}.apps.test/login",
            "roles": ROLES,
        },
    )
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert [r["id"] for r in created.json()["client"]["roles"]] == ["inspector", "approver"]

    # Both services learn the roles from the bus; the pickers' catalogue names them.
    someone = platform.auth(uuid4())

    async def offered(api: httpx.AsyncClient) -> dict[str, Any]:
        catalogue = (await api.get("/roles", headers=someone)).json()
        found = next((a for a in catalogue["applications"] if a["id"] == client_id), None)
        assert found is not None and found["offered"] is True, catalogue
        return dict(found)

    for api in (platform.organisations, platform.requests):
        application = await eventually(lambda api=api: offered(api), timeout=60)
        assert application["names"]["fr"] == "Permis"
        assert {r["id"]: r["names"]["de"] for r in application["roles"]} == {
            "inspector": "Prüfer",
            "approver": "Genehmiger",
        }

    # An organisation with its Superuser; a buyer asks to join it as inspector.
    superuser, buyer = uuid4(), await edge.create_user()
    registered = await platform.organisations.post(
        "/operator/organisations",
        json={
            "names": {"nl": "Stad Mechelen"},
            "enterprise_number": _enterprise_number(),
            "address": ADDRESS,
            "superuser_id": str(superuser),
        },
        headers=platform.auth(uuid4(), operator=True),
    )
    assert registered.status_code == 201, registered.text
    org = registered.json()["id"]

    async def inbox_open() -> bool:
        inbox = await platform.requests.get(
            f"/requests/inbox?organisation_id={org}", headers=platform.auth(superuser)
        )
        return inbox.status_code == 200

    await eventually(inbox_open, timeout=60, what="requests knows the Superuser")
    body = {"organisation_ids": [org]}
    as_buyer = platform.auth(buyer.id)
    added = await platform.requests.post("/basket/entries", json=body, headers=as_buyer)
    assert added.status_code == 200, added.text
    roles = [{"application": client_id, "role": "inspector"}]
    chosen = await platform.requests.put(
        "/basket/roles", json={**body, "roles": roles}, headers=as_buyer
    )
    assert chosen.status_code == 200, chosen.text
    submitted = await platform.requests.post("/basket/submit", json=body, headers=as_buyer)
    assert submitted.status_code == 201, submitted.text
    (request,) = submitted.json()

    approved = await platform.requests.post(
        f"/requests/{request['id']}/approve", headers=platform.auth(superuser)
    )
    assert approved.status_code == 200, approved.text

    async def completed() -> bool:
        detail = await platform.requests.get(f"/requests/{request['id']}", headers=as_buyer)
        return bool(detail.json()["status"] == "completed")

    await eventually(completed, timeout=60, what="the approval applied")

    # The buyer logs in to the new application: its token carries the role.
    async def token_carries_the_role() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as browser:
            await platform.login(browser, buyer.username, buyer.password)
            tokens = await platform.tokens(browser, client_id, redirect_uri, secret)
        userinfo = await edge_http.get(
            f"{edge.base_url}/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert userinfo.status_code == 200, userinfo.text
        assert userinfo.json()["roles"] == ["inspector"], userinfo.json()
        return dict(userinfo.json())

    claims = await eventually(token_carries_the_role, timeout=60, what="the edge heard of it")
    assert claims["org_id"] == org

    # Disabled, the application's roles are no longer offered: a request for them is
    # refused field by field, while the buyer keeps the role already held.
    disabled = await edge_http.post(
        f"{edge.base_url}/clients/{client_id}/disable", headers=as_operator
    )
    assert disabled.status_code == 200, disabled.text

    async def withdrawn() -> bool:
        catalogue = (await platform.requests.get("/roles", headers=someone)).json()
        found = next((a for a in catalogue["applications"] if a["id"] == client_id), None)
        return found is not None and found["offered"] is False

    await eventually(withdrawn, timeout=60, what="requests heard of the disabling")
    other = await edge.create_user()
    as_other = platform.auth(other.id)
    await platform.requests.post("/basket/entries", json=body, headers=as_other)
    refused = await platform.requests.put(
        "/basket/roles", json={**body, "roles": roles}, headers=as_other
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["code"] == "unknown_role"
    assert refused.json()["detail"]["field"] == "roles[0]"
    mine = (await platform.organisations.get("/me/organisations", headers=as_buyer)).json()
    assert {(r["application"], r["role"]) for r in mine[0]["roles"]} >= {(client_id, "inspector")}
