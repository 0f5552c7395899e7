"""The whole journey of a public buyer in Debian's Chromium, on real services.

Real uvicorn servers on free local ports: the portal, the edge, the eID gateway,
the card agent (in front of a real pcscd with the vpcd virtual reader and a
virtual card of the development PKI), identity, organisations, requests and two
platform applications; the notifier runs on the same in-process bus and mails
to a real SMTP sink. Every service has its own PostgreSQL database.

Seeded through the APIs, not part of the journey: the Superuser (registered with
a test-signed eID token, local login allowed by an operator) and three top-level
organisations where she is Superuser. Everything else happens in the browser.
"""

from __future__ import annotations

import asyncio
import base64
import email.header
import subprocess
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import FastAPI
from playwright.async_api import Browser, expect
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

import eproc_portal_testkit as steps
from eproc_edge.main import create_app as create_edge
from eproc_edge.settings import ClientConfig as EdgeClientConfig
from eproc_edge.settings import Settings as EdgeSettings
from eproc_eid_agent import reader
from eproc_eid_agent.agent import AgentSettings, create_agent_app
from eproc_eid_gateway.main import create_app as create_gateway
from eproc_eid_gateway.settings import ClientConfig as GatewayClientConfig
from eproc_eid_gateway.settings import Settings as GatewaySettings
from eproc_eid_testkit.pki import DevPki, issue_demo_card
from eproc_eid_testkit.pki_status import StatusServer, StatusService
from eproc_eid_testkit.virtual_card import VirtualCard
from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.main import create_app as create_identity
from eproc_identity.service.local_login import set_local_login
from eproc_identity.settings import Settings as IdentitySettings
from eproc_notifier.main import create_app as create_notifier
from eproc_notifier.settings import Settings as NotifierSettings
from eproc_organisations.main import create_app as create_organisations
from eproc_organisations.settings import Settings as OrganisationsSettings
from eproc_platform_app.main import AppSettings
from eproc_platform_app.main import create_app as create_platform_app
from eproc_portal.main import create_app as create_portal
from eproc_portal.settings import Settings as PortalSettings
from eproc_portal_testkit import new_page
from eproc_requests.main import create_app as create_requests
from eproc_requests.settings import Settings as RequestsSettings
from eproc_runtime.auth import TokenVerifier
from eproc_runtime.db import unit_of_work
from eproc_runtime.messaging import _log_brokers
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.plugin import CreateDatabase, SmtpSink
from eproc_runtime.testing.servers import serving, serving_in_thread
from eproc_runtime.testing.tokens import TestIssuer

from .browser_kit import assert_accessible
from .conftest import EidCard

REPO_ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
PASSWORD = "the superuser's long pass phrase"
APPS = {"e-notification": "e-Notification", "e-tendering": "e-Tendering"}


class EitherVerifier:
    """Services trust the real edge (the journey) and the test issuer (the seeding)."""

    def __init__(self, *verifiers: Any) -> None:
        self.verifiers = verifiers

    async def verify(self, token: str) -> Any:
        error: Exception | None = None
        for verifier in self.verifiers:
            try:
                return await verifier.verify(token)
            except Exception as exc:  # try the next one
                error = exc
        assert error is not None
        raise error


# vpcd's second slot (reader "… 00 01", TCP 35964): the first one is the one the eID
# gateway's tests and the local tools (`eid-card insert`) use by default, so the
# journey does not compete with them for it.
VPCD_PORT = 35964


@pytest.fixture(scope="module")
def pcscd() -> str:
    """pcscd with the vpcd virtual readers, as the eID gateway's tests start it."""
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "local" / "pcscd.sh"), "start"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"pcscd could not be started:\n{result.stdout}{result.stderr}"
    names = sorted(name for name in reader.list_readers() if name.startswith("Virtual PCD"))
    assert len(names) > 1, f"pcscd shows no second vpcd reader: {names}"
    return str(names[1])


class Prefixes:
    """``/apps/<client>/…`` to that platform application (it routes its own prefix)."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        for prefix, app in self.apps.items():
            if path.startswith(prefix + "/") or path == prefix:
                await app(scope, receive, send)
                return
        await PlainTextResponse("Not found", status_code=404)(scope, receive, send)


@dataclass
class Journey:
    portal: str
    edge: str
    eid: str
    apps: str
    issuer: TestIssuer
    identity: str
    organisations: str
    requests: str
    superuser: dict[str, Any]
    first: dict[str, Any]
    second: dict[str, Any]
    third: dict[str, Any]
    card: EidCard
    """Signs ID tokens identity accepts at registration (seeding more users)."""
    allow_password: Any
    """``await allow_password(user_id)``: local login on for that user (as an operator would)."""


def enterprise_number() -> str:
    body = f"0{uuid.uuid4().int % 9999999:07d}"
    return f"{body}{97 - int(body) % 97:02d}"


@pytest.fixture
async def journey(
    create_database: CreateDatabase,
    smtp_sink: SmtpSink,
    pcscd: str,
    tmp_path: Path,
) -> AsyncIterator[Journey]:
    servers = ("portal", "edge", "eid", "agent", "apps", "identity", "organisations", "requests")
    ports = {name: free_port() for name in servers}
    portal_url = f"http://{HOST}:{ports['portal']}"
    edge_url = f"http://{HOST}:{ports['edge']}"
    gateway_origin = f"http://{HOST}:{ports['eid']}"
    eid_issuer = f"{gateway_origin}/eid"
    apps_url = f"http://{HOST}:{ports['apps']}"
    api = {s: f"http://{HOST}:{ports[s]}" for s in ("identity", "organisations", "requests")}

    urls = {}
    for package in (
        "eproc_identity",
        "eproc_organisations",
        "eproc_requests",
        "eproc_notifier",
        "eproc_edge",
        "eproc_eid_gateway",
    ):
        urls[package] = await create_database(f"journey_{package.split('_', 1)[1][:8]}")
        await upgrade_async(package, urls[package])
    common: dict[str, Any] = {
        "bus": "inprocess",
        "bus_database_url": f"sqlite+aiosqlite:///{tmp_path}/bus.db",
        "relay_idle_interval": 0.02,
        "consumer_retry_backoff": 0.01,
        "topic_prefix": f"journey{uuid.uuid4().hex[:6]}.",
        "log_level": "WARNING",
        "token_issuer": edge_url,
        "jwks_url": f"{edge_url}/jwks",
    }
    issuer = TestIssuer()
    edge_tokens = TokenVerifier(issuer=edge_url, client_id="eproc", jwks_url=f"{edge_url}/jwks")
    verifier = EitherVerifier(edge_tokens, issuer.verifier())

    # The eID gateway with a fresh development PKI; its TEST root is the trust anchor.
    pki = DevPki.create()
    anchor = tmp_path / "root.pem"
    anchor.write_bytes(pki.root_cert.public_bytes(Encoding.PEM))
    card_dir = tmp_path / "card-alice"
    issue_demo_card(pki, "alice").save(card_dir)
    gateway = create_gateway(
        GatewaySettings(
            database_url=urls["eproc_eid_gateway"],
            issuer=eid_issuer,
            trust_anchors=[anchor],
            subject_key=SecretStr(base64.urlsafe_b64encode(b"j" * 32).rstrip(b"=").decode()),
            clients=[
                GatewayClientConfig(
                    client_id="edge",
                    client_secret="journey-edge-secret",
                    redirect_uris=[f"{edge_url}/login/eid/callback"],
                ),
                GatewayClientConfig(
                    client_id="portal",
                    client_secret="journey-portal-eid-secret",
                    redirect_uris=[f"{portal_url}/register/eid-callback"],
                ),
            ],
            agent_url=f"http://{HOST}:{ports['agent']}",
            log_level="WARNING",
        )
    )

    @asynccontextmanager
    async def gateway_lifespan(_: Starlette) -> AsyncIterator[None]:
        async with gateway.router.lifespan_context(gateway):
            yield

    gateway_site = Starlette(routes=[Mount("/eid", app=gateway)], lifespan=gateway_lifespan)
    agent = create_agent_app(AgentSettings(gateway_origin=gateway_origin, reader=pcscd))

    # The Superuser was registered with a card the test signs for (not the journey's).
    seed_card = EidCard()
    identity_settings = IdentitySettings(
        database_url=urls["eproc_identity"],
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
        eid_issuer=eid_issuer,
        eid_jwks_url=f"{eid_issuer}/jwks",
        **common,
    )
    identity = create_identity(
        identity_settings,
        token_verifier=verifier,
        eid_token_verifier=EitherVerifier(
            EidTokenVerifier(issuer=eid_issuer, audience="portal", jwks_url=f"{eid_issuer}/jwks"),
            seed_card.verifier(),
        ),
    )
    organisations = create_organisations(
        OrganisationsSettings(database_url=urls["eproc_organisations"], **common),
        token_verifier=verifier,
    )
    requests = create_requests(
        RequestsSettings(
            database_url=urls["eproc_requests"],
            reminder_job_enabled=False,
            organisations_url=api["organisations"],
            **common,
        ),
        token_verifier=verifier,
    )
    notifier = create_notifier(
        NotifierSettings(
            database_url=urls["eproc_notifier"],
            smtp_host=smtp_sink.host,
            smtp_port=smtp_sink.port,
            smtp_starttls=False,
            sender_idle_interval=0.05,
            portal_url=f"{portal_url}/",
            **common,
        )
    )
    clients = [
        EdgeClientConfig(
            client_id="portal",
            client_secret="journey-portal-secret",
            name="User management",
            application="user-management",
            redirect_uris=[f"{portal_url}/auth/callback"],
            post_logout_redirect_uris=[f"{portal_url}/"],
            home_url=f"{portal_url}/",
            login_url=f"{portal_url}/auth/login",
            resource_servers=["eproc"],
        ),
        *(
            EdgeClientConfig(
                client_id=client_id,
                client_secret=f"journey-{client_id}",
                name=name,
                application=client_id,
                redirect_uris=[f"{apps_url}/apps/{client_id}/callback"],
                post_logout_redirect_uris=[f"{apps_url}/apps/{client_id}/"],
                home_url=f"{apps_url}/apps/{client_id}/",
                login_url=f"{apps_url}/apps/{client_id}/login",
            )
            for client_id, name in APPS.items()
        ),
    ]
    edge = create_edge(
        EdgeSettings(
            database_url=urls["eproc_edge"],
            clients=clients,
            identity_url=api["identity"],
            upstream_issuer=eid_issuer,
            upstream_client_id="edge",
            upstream_client_secret="journey-edge-secret",
            portal_url=f"{portal_url}/",
            first_login_url=f"{portal_url}/welcome",
            registration_url=f"{portal_url}/register",
            **common,
        )
    )
    portal = create_portal(
        PortalSettings(
            public_url=portal_url,
            oidc_issuer=edge_url,
            oidc_client_id="portal",
            oidc_client_secret=SecretStr("journey-portal-secret"),
            oidc_redirect_uri=f"{portal_url}/auth/callback",
            eid_issuer=eid_issuer,
            eid_client_id="portal",
            eid_client_secret=SecretStr("journey-portal-eid-secret"),
            eid_redirect_uri=f"{portal_url}/register/eid-callback",
            identity_url=api["identity"],
            organisations_url=api["organisations"],
            requests_url=api["requests"],
            log_level="WARNING",
        )
    )
    platform_apps: dict[str, FastAPI] = {
        f"/apps/{client_id}": create_platform_app(
            AppSettings(
                client_id=client_id,
                client_secret=f"journey-{client_id}",
                name=name,
                base_url=f"{apps_url}/apps/{client_id}",
                edge_url=edge_url,
                roles_url=f"{api['organisations']}/roles",
                database_url=f"sqlite+aiosqlite:///{tmp_path}/{client_id}.db",
                # The services' bus: the applications learn who holds their roles.
                bus="inprocess",
                bus_database_url=common["bus_database_url"],
                topic_prefix=common["topic_prefix"],
            )
        )
        for client_id, name in APPS.items()
    }

    card = VirtualCard.from_directory(card_dir, port=VPCD_PORT)
    with (
        serving_in_thread(gateway_site, ports["eid"]),
        serving_in_thread(agent, ports["agent"]),
        StatusServer(StatusService(pki)),  # the PKI's OCSP responder and CRLs
    ):
        async with AsyncExitStack() as running:
            for app in (identity, organisations, requests, notifier, edge, portal):
                await running.enter_async_context(app.router.lifespan_context(app))
            for app in platform_apps.values():
                await running.enter_async_context(app.router.lifespan_context(app))
            for app, port in (
                (identity, ports["identity"]),
                (organisations, ports["organisations"]),
                (requests, ports["requests"]),
                (edge, ports["edge"]),
                (portal, ports["portal"]),
                (Prefixes(platform_apps), ports["apps"]),
            ):
                await running.enter_async_context(serving(app, port, lifespan="off"))
            card.insert()
            running.callback(card.remove)
            seeded = await seed(issuer, api, seed_card, identity)

            async def allow_password(user_id: str) -> None:
                async with unit_of_work(identity.state.service.sessions) as session:
                    await set_local_login(
                        session, uuid.UUID(user_id), True, caller=None, reason="a test user"
                    )

            yield Journey(
                portal=portal_url,
                edge=edge_url,
                eid=eid_issuer,
                apps=apps_url,
                issuer=issuer,
                identity=api["identity"],
                organisations=api["organisations"],
                requests=api["requests"],
                card=seed_card,
                allow_password=allow_password,
                **seeded,
            )
    # Only this journey's in-process broker: the session's other stack keeps its own.
    broker = _log_brokers.pop(common["bus_database_url"], None)
    if broker is not None:
        await broker.stop()


async def seed(
    issuer: TestIssuer, api: dict[str, str], card: EidCard, identity: Any
) -> dict[str, Any]:
    """The Superuser (local login allowed) and the organisations, as an operator adds them."""
    operator = {"Authorization": f"Bearer {issuer.user_token(uuid.uuid4(), operator=True)}"}
    suffix = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{api['identity']}/registrations",
            json={
                "id_token": card.id_token(given_name="Els", family_name="Maes"),
                "email": f"els.{suffix}@example.be",
                "language": "nl",
                "phone": "02 511 11 11",
                "username": f"els.{suffix}",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 201, response.text
        superuser = response.json()
        # What an operator switches in the portal (tested there), set in identity's data.
        async with unit_of_work(identity.state.service.sessions) as session:
            await set_local_login(
                session,
                uuid.UUID(superuser["id"]),
                True,
                caller=None,
                reason="the journey's Superuser logs in with a password",
            )
        created = {}
        for key, name in (
            ("first", f"Stad Leuven {suffix}"),
            ("second", f"OCMW Leuven {suffix}"),
            ("third", f"Provincie Vlaams-Brabant {suffix}"),
        ):
            response = await http.post(
                f"{api['organisations']}/operator/organisations",
                headers=operator,
                json={
                    "parent_id": None,
                    "names": {"nl": name, "fr": f"{name} (fr)"},
                    "enterprise_number": enterprise_number(),
                    "address": {
                        "street": "Grote Markt",
                        "number": "9",
                        "postcode": "3000",
                        "municipality": "Leuven",
                    },
                    "superuser_id": superuser["id"],
                },
            )
            assert response.status_code == 201, response.text
            created[key] = response.json()
    return {"superuser": superuser, **created}


async def test_the_whole_journey_of_a_public_buyer(
    browser: Browser,
    journey: Journey,
    smtp_sink: SmtpSink,
) -> None:
    """Register with the eID card → first-login choice → join two organisations with
    different roles → a Superuser approves one and rejects the other with a reason →
    both under "finished" → default organisation → change organisation → two
    platform applications by R-SSO-3 (all three cases) → leave → the mails."""
    portal = journey.portal
    buyer = await new_page(browser)
    errors: list[str] = []
    buyer.on("pageerror", lambda error: errors.append(str(error)))

    # 1. Register with the virtual eID card, through the real gateway and card agent.
    suffix = uuid.uuid4().hex[:6]
    buyer_username = f"alice.{suffix}"  # also the mailbox: alice.<suffix>@example.be
    given_names = await steps.register_with_card(
        buyer,
        portal,
        eid=journey.eid,
        pin="1234",
        email=f"alice.{suffix}@example.be",
        phone="+32 16 12 34 56",
        username=buyer_username,
        password="a long enough pass phrase",
    )
    assert given_names == "Alice Marie"
    await assert_accessible(buyer)

    # 2. Log in with the card (edge → gateway → agent), then the first-login choice.
    await steps.login_with_card_after_registration(buyer, portal, pin="1234")
    await expect(buyer.locator(".who")).to_contain_text("Alice Marie Peeters")
    await assert_accessible(buyer)
    await steps.choose_to_join(buyer, portal)

    # 3. Join two organisations with different roles.
    first, second, third = journey.first["id"], journey.second["id"], journey.third["id"]
    await buyer.locator(f"#tree-{first}").check()
    await buyer.locator(f"#tree-{second}").check()
    await buyer.locator("form[action='/join/select'] button[type=submit]").click()
    await buyer.locator(f"#basket-{second}").wait_for()
    for organisation, roles in (
        (first, ("e-notification-editor", "e-tendering-dossier-manager")),
        (second, ("e-catalogue-buyer",)),
    ):
        await steps.set_basket_roles(buyer, organisation, roles)
    await steps.submit_basket(buyer, [first, second])
    in_progress = buyer.locator("section[aria-labelledby=in-progress]")
    await expect(in_progress).to_contain_text(journey.first["names"]["nl"])
    await expect(in_progress).to_contain_text(journey.second["names"]["nl"])

    # 4. The Superuser, in another browser context, logs in with a password and
    # approves one request and rejects the other with a reason.
    superuser = await new_page(browser, "fr-BE")
    await steps.login_with_password(
        superuser, portal, username=journey.superuser["username"], password=PASSWORD
    )
    for organisation, decision in ((first, "approve"), (second, "reject")):
        await steps.open_pending_request(superuser, portal, organisation)
        reason = "Inconnue dans nos services" if decision == "reject" else None
        await steps.decide_request(superuser, decision, reason)

    # 5. The requester sees both under "finished".
    finished = buyer.locator("section[aria-labelledby=finished]")
    for _ in range(100):
        await buyer.goto(f"{portal}/my-requests")
        if await finished.locator("tbody tr").count() >= 2:
            break
        await buyer.wait_for_timeout(100)
    await expect(finished).to_contain_text(journey.first["names"]["nl"])
    await expect(finished).to_contain_text(journey.second["names"]["nl"])
    rejected = finished.locator("tr").filter(has_text=journey.second["names"]["nl"])
    await expect(rejected).to_contain_text("Afgekeurd")
    await assert_accessible(buyer)
    await rejected.locator("a").click()
    await expect(buyer.locator("main")).to_contain_text("Inconnue dans nos services")

    # The Superuser also adds the buyer to a third organisation (Superuser > members).
    await superuser.goto(f"{portal}/superuser/members?organisation={third}")
    await superuser.locator("input#username").fill(buyer_username)
    await superuser.locator("#role-e-catalogue-buyer").check()
    await superuser.locator("form[action='/superuser/members/add'] button[type=submit]").click()
    await superuser.locator(".notice").wait_for()

    # 6. The buyer sets the default organisation (a grey tick becomes the green one).
    third_name = journey.third["names"]["nl"]
    rows = buyer.locator("main table tbody tr")
    for _ in range(100):
        await buyer.goto(f"{portal}/my-organisations")
        if await rows.count() >= 2:
            break
        await buyer.wait_for_timeout(100)
    await rows.filter(has_text=third_name).locator("button.tick-other").click()
    await expect(rows.filter(has_text=third_name).locator(".tick-default")).to_be_visible()
    first_row = rows.filter(has_text=journey.first["names"]["nl"])
    await expect(first_row.locator(".tick-other")).to_be_visible()
    await assert_accessible(buyer)

    # 7. Changes organisation (the default one was active): the first one.
    await buyer.goto(f"{portal}/change-organisation")
    await buyer.locator(f"#organisation-{first}").check()
    await buyer.locator("form[action='/change-organisation'] button[type=submit]").click()
    await buyer.wait_for_url(f"{portal}/home")
    await expect(buyer.locator(".who .organisation")).to_have_text(journey.first["names"]["nl"])

    # 8. Switches to two platform applications from the top bars, R-SSO-3 case 1: a
    # role in the target application in the active organisation keeps that one.
    first_name = journey.first["names"]["nl"]
    await buyer.locator("nav.apps").get_by_role("button", name="e-Notification").click()
    await buyer.wait_for_url(f"{journey.apps}/apps/e-notification/app")
    await expect(buyer.locator("#organisation")).to_have_text(first_name)
    # Role names as the catalogue gives them (Dutch: "Editor"), never role codes.
    await expect(buyer.locator("#roles")).to_have_text("Editor")
    await expect(buyer.locator("#logged-in-as")).to_contain_text("Alice Marie Peeters")
    # The application learnt from the bus who holds its roles there: the buyer too, by name.
    await expect(buyer.locator("#members")).to_contain_text("Alice Marie Peeters")
    await expect(buyer.locator("#members")).to_contain_text("Editor")
    await buyer.locator("nav.apps").get_by_role("button", name="e-Tendering").click()
    await buyer.wait_for_url(f"{journey.apps}/apps/e-tendering/app")
    await expect(buyer.locator("#organisation")).to_have_text(first_name)
    await expect(buyer.locator("#roles")).to_have_text("Dossierverantwoordelijke")
    # Case 3: e-Tendering changes to the third organisation, the default one, where
    # the buyer holds no e-Notification role: e-Notification's anonymous home page.
    await buyer.locator("select[name=organisation_id]").select_option(third)
    await buyer.locator("form[action$='/organisation'] button").click()
    await buyer.wait_for_url(f"{journey.apps}/apps/e-tendering/app")
    await expect(buyer.locator("#organisation")).to_have_text(third_name)
    await buyer.locator("nav.apps").get_by_role("button", name="e-Notification").click()
    await buyer.wait_for_url(f"{journey.apps}/apps/e-notification/")
    await buyer.locator("a#login").wait_for()
    # The public page says why (R-SSO-3 case 3) and leads to the portal to join.
    await expect(buyer.locator("#why")).to_contain_text("hebt u geen rol in e-Notification")
    # Case 2: with the first organisation as default again, the same switch from
    # e-Tendering (still in the third) makes the default one active.
    await buyer.goto(f"{portal}/my-organisations")
    await first_row.locator("button.tick-other").click()
    await expect(first_row.locator(".tick-default")).to_be_visible()
    for _ in range(50):  # the edge learns the new default from the bus
        await buyer.goto(f"{journey.apps}/apps/e-tendering/app")
        await expect(buyer.locator("#organisation")).to_have_text(third_name)
        await buyer.locator("nav.apps").get_by_role("button", name="e-Notification").click()
        await buyer.wait_for_load_state()
        if buyer.url.endswith("/apps/e-notification/app"):
            break
        await buyer.wait_for_timeout(100)
    await expect(buyer.locator("#organisation")).to_have_text(first_name)
    await expect(buyer.locator("#roles")).to_have_text("Editor")

    # 9. Leaves the third organisation; its Superuser approves the leave.
    await buyer.goto(f"{portal}/my-organisations")
    await buyer.locator(f"#membership-{third}").check()
    await buyer.locator("button[value=leave]").click()
    # Issue 19, point 6: leaving asks first, saying what it costs.
    await expect(buyer.locator("#consequence")).to_contain_text("verliest u al uw rollen")
    await buyer.get_by_role("button", name="Ja, verlaten").click()
    await buyer.locator(".notice").wait_for()
    await steps.open_pending_request(superuser, portal, third)
    await steps.decide_request(superuser, "approve")
    for _ in range(100):
        await buyer.goto(f"{portal}/my-organisations")
        if await rows.count() == 1:
            break
        await buyer.wait_for_timeout(100)
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(journey.first["names"]["nl"])
    assert errors == []

    # 10. The mails, rendered by the notifier from the bus, arrived at the SMTP sink
    # in Dutch: to the Superuser each new request; to the buyer each outcome, once
    # (the reason of the refusal included; the leave: one mail, not "approved" and
    # then "you left"), and being added by the Superuser (issue 19, point 5).
    mails = await smtp_sink.wait_for(7, timeout=30)
    received: dict[str, list[str]] = {}
    bodies: dict[str, str] = {}
    for mail in mails:
        assert mail["Content-Language"] == "nl"
        received.setdefault(str(mail["To"]), []).append(subject_of(mail))
        bodies[subject_of(mail)] = text_of(mail)
    first_name, second_name = journey.first["names"]["nl"], journey.second["names"]["nl"]
    assert sorted(received) == sorted([journey.superuser["email"], f"{buyer_username}@example.be"])
    assert sorted(received[journey.superuser["email"]]) == sorted(
        [
            f"Nieuwe toetredingsaanvraag voor {first_name}",
            f"Nieuwe toetredingsaanvraag voor {second_name}",
            f"Nieuwe aanvraag om de organisatie te verlaten voor {third_name}",
        ]
    )
    assert sorted(received[f"{buyer_username}@example.be"]) == sorted(
        [
            f"Uw toetredingsaanvraag voor {first_name} is goedgekeurd",
            f"Uw toetredingsaanvraag voor {second_name} is afgekeurd",
            f"U bent toegevoegd aan {third_name}",
            f"U hebt {third_name} verlaten",
        ]
    )
    rejected_mail = bodies[f"Uw toetredingsaanvraag voor {second_name} is afgekeurd"]
    assert "Inconnue dans nos services" in rejected_mail
    await asyncio.sleep(1)  # none doubled, even a little later
    assert len(smtp_sink.messages()) == 7
    await buyer.context.close()
    await superuser.context.close()


def subject_of(mail: Message) -> str:
    """The decoded subject, on one line."""
    subject = str(email.header.make_header(email.header.decode_header(str(mail["Subject"]))))
    return " ".join(subject.split())


def text_of(mail: Message) -> str:
    """The plain-text part, decoded."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text part in {subject_of(mail)}")
