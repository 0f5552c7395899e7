"""Fixtures: a real pcscd with vpcd, a session-wide development PKI, virtual cards."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount

from eproc_eid_agent import reader
from eproc_eid_agent.agent import AgentSettings, create_agent_app
from eproc_eid_gateway.main import create_app
from eproc_eid_gateway.settings import ClientConfig, Settings
from eproc_eid_testkit.pki import CardMaterial, DevPki, issue_demo_card
from eproc_eid_testkit.pki_status import StatusServer, StatusService
from eproc_eid_testkit.virtual_card import VirtualCard
from eproc_runtime.migrations import upgrade_async

REPO_ROOT = Path(__file__).resolve().parents[3]
PCSCD_SCRIPT = REPO_ROOT / "deploy" / "local" / "pcscd.sh"


@pytest.fixture(scope="session")
def pcscd() -> str:
    """Start pcscd with vpcd (installing it if needed); fail, never skip, without it.

    Returns the name of the vpcd reader on port 35963.
    """
    result = subprocess.run(
        ["bash", str(PCSCD_SCRIPT), "start"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"pcscd could not be started:\n{result.stdout}{result.stderr}"
    names = sorted(name for name in reader.list_readers() if name.startswith("Virtual PCD"))
    assert names, "pcscd runs but shows no vpcd reader"
    return names[0]


@pytest.fixture(scope="session")
def pki_status() -> Iterator[StatusService]:
    """One TEST PKI for the whole session, its OCSP responder and CRLs served over HTTP
    on the loopback port its certificates name."""
    service = StatusService(DevPki.create())
    with StatusServer(service):
        yield service


@pytest.fixture
def status_service(pki_status: StatusService) -> Iterator[StatusService]:
    """The status service for a test that switches its responder or CRLs off."""
    pki_status.requests.clear()
    yield pki_status
    pki_status.ocsp_online = pki_status.crl_online = True


@pytest.fixture(scope="session")
def pki(pki_status: StatusService) -> DevPki:
    return pki_status.pki


@pytest.fixture(scope="session")
def card_factory(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write a fresh card folder (PIN counter full) for a demo person and defects.

    Key generation is cached per (person, defects): each call only copies files.
    """
    cache: dict[tuple[object, ...], CardMaterial] = {}

    def make(person: str, **defects: object) -> Path:
        key = (person, *sorted(defects.items()))
        if key not in cache:
            cache[key] = issue_demo_card(pki, person, **defects)
        directory = tmp_path_factory.mktemp(f"card-{person}")
        cache[key].save(directory)
        return directory

    return make


class Slot:
    """The vpcd reader as a test sees it: insert, reinsert and remove virtual cards."""

    def __init__(self, reader_name: str) -> None:
        self.reader_name = reader_name
        self.cards: list[VirtualCard] = []
        self.sessions: list[reader.EidCard] = []

    def insert(self, card_dir: Path) -> tuple[VirtualCard, reader.EidCard]:
        """Insert the card in ``card_dir`` and open a reader session with it."""
        card = VirtualCard.from_directory(card_dir)
        card.insert()
        self.cards.append(card)
        return card, self._session()

    def reinsert(self, card: VirtualCard) -> reader.EidCard:
        """Remove ``card``, wait until pcscd noticed, insert it again, open a new session."""
        card.remove()
        reader.wait_for_removal(self.reader_name, timeout=10)
        card.insert()
        return self._session()

    def _session(self) -> reader.EidCard:
        session = reader.wait_for_card(self.reader_name, timeout=10)
        self.sessions.append(session)
        return session

    def clear(self) -> None:
        for session in self.sessions:
            session.close()
        for card in self.cards:
            card.remove()
        reader.wait_for_removal(self.reader_name, timeout=10)


@pytest.fixture
def slot(pcscd: str) -> Iterator[Slot]:
    """The vpcd reader; every card inserted in a test is removed after it."""
    current = Slot(pcscd)
    yield current
    current.clear()


# ---- the gateway and the card agent, wired as in a browser login ----

GATEWAY_ORIGIN = "http://localhost:8000"
ISSUER = f"{GATEWAY_ORIGIN}/eid"
AGENT_URL = "http://127.0.0.1:35970"
EDGE_REDIRECT = f"{GATEWAY_ORIGIN}/sso/login/eid/callback"
EDGE_SECRET = "edge-secret-for-tests"
SUBJECT_KEY = base64.urlsafe_b64encode(b"k" * 32).rstrip(b"=").decode()


@dataclass
class Authorization:
    """One login in progress, as the browser and the relying party hold it."""

    challenge_id: str
    challenge: str
    state: str
    nonce: str
    code_verifier: str
    page: str


class EidLogin:
    """Drives the gateway (mounted under /eid) and the agent like the login page does."""

    def __init__(self, gateway: httpx.AsyncClient, agent: httpx.AsyncClient, app: Any) -> None:
        self.gateway = gateway
        self.agent = agent
        self.app = app

    async def start(self, **extra: str) -> Authorization:
        """The relying party sends the browser to /authorize; the page shows a challenge."""
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "client_id": "edge",
            "redirect_uri": EDGE_REDIRECT,
            "scope": "openid profile egovnrn",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            **extra,
        }
        response = await self.gateway.get("/eid/authorize", params=params)
        assert response.status_code == 200, response.text
        found = re.search(
            r'<script type="application/json" id="eid-config">(.*?)</script>', response.text
        )
        assert found, response.text
        config = json.loads(found.group(1).replace("<\\/", "</"))
        return Authorization(
            config["challenge_id"], config["challenge"], state, nonce, verifier, response.text
        )

    async def card(self, challenge: str, pin: str = "1234") -> httpx.Response:
        """The page asks the agent to have the card sign the challenge."""
        return await self.agent.post("/authenticate", json={"challenge": challenge, "pin": pin})

    async def complete(self, challenge_id: str, presentation: dict[str, Any]) -> httpx.Response:
        """The page posts the agent's answer to the gateway."""
        return await self.gateway.post(
            "/eid/authorize/complete",
            json={"challenge_id": challenge_id, "presentation": presentation},
        )

    async def redeem(self, authorization: Authorization, redirect: str) -> httpx.Response:
        """The relying party exchanges the code (client_secret_basic + PKCE)."""
        query = parse_qs(urlsplit(redirect).query)
        assert query["state"] == [authorization.state]
        return await self.gateway.post(
            "/eid/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": EDGE_REDIRECT,
                "code_verifier": authorization.code_verifier,
            },
            auth=("edge", EDGE_SECRET),
        )

    async def login(self, pin: str = "1234") -> tuple[Authorization, dict[str, Any]]:
        """A whole login; returns the token response."""
        authorization = await self.start()
        card = await self.card(authorization.challenge, pin)
        assert card.status_code == 200, card.text
        completed = await self.complete(authorization.challenge_id, card.json())
        assert completed.status_code == 200, completed.text
        tokens = await self.redeem(authorization, completed.json()["redirect"])
        assert tokens.status_code == 200, tokens.text
        return authorization, tokens.json()


@pytest.fixture
def trust_anchor_file(pki: DevPki, tmp_path: Path) -> Path:
    path = tmp_path / "trusted-roots.pem"
    path.write_bytes(pki.root_cert.public_bytes(Encoding.PEM))
    return path


@pytest.fixture
async def gateway_settings(
    request: pytest.FixtureRequest, create_database: Any, trust_anchor_file: Path, tmp_path: Path
) -> Settings:
    """PostgreSQL; ``sqlite`` as indirect parameter gives the embedded mode's database."""
    if getattr(request, "param", None) == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/eid-gateway.db"
    else:
        url = await create_database("eid_gateway")
    await upgrade_async("eproc_eid_gateway", url)
    return Settings(
        database_url=url,
        issuer=ISSUER,
        trust_anchors=[trust_anchor_file],
        subject_key=SecretStr(SUBJECT_KEY),
        clients=[
            ClientConfig(client_id="edge", client_secret=EDGE_SECRET, redirect_uris=[EDGE_REDIRECT])
        ],
        agent_url=AGENT_URL,
        log_level="DEBUG",
    )


@pytest.fixture
async def eid(gateway_settings: Settings, pcscd: str) -> AsyncIterator[EidLogin]:
    """The gateway mounted under /eid (as behind the HTTP gateway) and the card agent."""
    async with eid_login(gateway_settings, pcscd) as login:
        yield login


@asynccontextmanager
async def eid_login(settings: Settings, pcscd: str) -> AsyncIterator[EidLogin]:
    """A gateway with ``settings`` and the card agent, driven as the login page does."""
    app = create_app(settings)
    site = Starlette(routes=[Mount("/eid", app=app)])
    agent_app = create_agent_app(AgentSettings(gateway_origin=GATEWAY_ORIGIN, reader=pcscd))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url=GATEWAY_ORIGIN) as gw,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=agent_app, client=("127.0.0.1", 50123)),
            base_url=AGENT_URL,
            headers={"Origin": GATEWAY_ORIGIN},
        ) as agent,
    ):
        yield EidLogin(gw, agent, app)
