"""docs/integrating.md: every snippet in tests/snippets/ appears in the guide verbatim,
and each one runs here against a real edge, PostgreSQL/SQLite and Kafka."""

from __future__ import annotations

import asyncio
import html
import importlib.util
import json
import re
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import decode, encode
from eproc_edge.registration import ClientRegistration
from eproc_edge_testkit import LocalUser
from eproc_platform_sdk import TokenVerifier
from eproc_runtime.bus.kafka import kafka_connection

from .conftest import SNIPPETS, EdgeServer, registered_client

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "integrating.md"


def snippet_files() -> list[Path]:
    return sorted(
        p
        for p in SNIPPETS.iterdir()
        if p.suffix in {".py", ".json", ".yaml"} and p.name != "__init__.py"
    )


@pytest.mark.parametrize("snippet", snippet_files(), ids=lambda p: p.name)
def test_the_guide_contains_the_snippet_verbatim(snippet: Path) -> None:
    fences = {".py": "python", ".json": "json", ".yaml": "yaml"}
    block = f"```{fences[snippet.suffix]}\n{snippet.read_text()}```"
    assert block in GUIDE.read_text(), f"docs/integrating.md lacks {snippet.name} verbatim"


def test_the_guide_documents_every_token_error() -> None:
    from eproc_platform_sdk import errors

    text = GUIDE.read_text()
    for name in dir(errors):
        cls = getattr(errors, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, errors.TokenError)
            and cls.code != "invalid_token"
        ):
            assert f"`{cls.code}`" in text and name in text, name


def test_the_registration_snippets_are_valid() -> None:
    client = registered_client()
    assert client.redirect_uris == ["https://e-auction.example.be/callback"]
    roles = json.loads((SNIPPETS / "roles.json").read_text())
    registration = ClientRegistration.model_validate(
        {
            "client_id": client.client_id,
            "names": dict.fromkeys(("nl", "fr", "de", "en"), client.name),
            "redirect_uris": client.redirect_uris,
            "home_url": client.home_url,
            "login_url": client.login_url,
            "roles": roles,
        }
    )
    assert [r.id for r in registration.roles] == ["auctioneer", "bidder-liaison"]
    assert registration.roles[0].names.fr == "Commissaire-priseur"


def load(name: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location(f"snippet_{name}", SNIPPETS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
async def bidder(edge_server: EdgeServer) -> dict[str, Any]:
    org = await edge_server.create_organisation("Stad Leuven")
    user = await edge_server.create_user(
        {org: [("e-auction", "auctioneer"), ("e-tendering", "dossier-manager")]}
    )
    return {"org": org, "user": user}


async def test_log_users_in(
    edge_server: EdgeServer, bidder: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user: LocalUser = bidder["user"]
    secret = str(registered_client().client_secret)
    snippet = load(
        "login", monkeypatch, EPROC_EDGE_URL=edge_server.base_url, EPROC_CLIENT_SECRET=secret
    )
    mounts = {"https://e-auction.example.be": httpx.ASGITransport(app=snippet.app)}
    async with httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=10) as browser:
        page = await browser.get(f"{edge_server.base_url}/login")
        csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
        assert csrf is not None
        await browser.post(
            f"{edge_server.base_url}/login/local",
            data={
                "username": user.username,
                "password": user.password,
                "return_to": "/authorize?x=1",
                "csrf": csrf.group(1),
            },
            follow_redirects=False,
        )
        page = await browser.get("https://e-auction.example.be/login")
        assert page.status_code == 200, page.text
        assert "You are logged in as Ann Peeters (Stad Leuven)" in page.text
        # The top bar's switch form, posted as the browser would from the page.
        form = re.search(
            r"action='([^']+)'><input type='hidden' name='csrf' value='([^']+)'>"
            r"<button type='submit'>e-tendering</button>",
            page.text,
        )
        assert form is not None, page.text
        switched = await browser.post(
            html.unescape(form.group(1)),
            data={"csrf": form.group(2)},
            headers={"Origin": "https://e-auction.example.be"},
            follow_redirects=False,
        )
    assert switched.status_code == 303, switched.text
    assert switched.headers["location"] == "http://rp.test/e-tendering/login"


async def test_read_the_active_organisation(
    edge_server: EdgeServer, bidder: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    snippet = load("active_organisation", monkeypatch, EPROC_EDGE_URL=edge_server.base_url)
    tokens = await edge_server.tokens(bidder["user"], "e-auction")
    transport = httpx.ASGITransport(app=snippet.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://e-auction.test") as http:
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = (await http.get("/api/whoami", headers=auth)).json()
        assert me["organisation_name"] == "Stad Leuven" and me["roles"] == ["auctioneer"]
        assert me["organisation_id"] == str(bidder["org"])
        opened = await http.post("/api/auctions", headers=auth)
        assert opened.json() == {"opened_for": str(bidder["org"])}
        other = await edge_server.tokens(bidder["user"], "e-tendering")
        refused = await http.get(
            "/api/whoami", headers={"Authorization": f"Bearer {other['access_token']}"}
        )
        assert refused.json()["detail"]["code"] == "wrong_audience"
    second = await edge_server.create_organisation("Stad Mechelen")
    await edge_server.publish_locally(
        ev.MembershipGranted(
            user_id=bidder["user"].id,
            organisation_id=second,
            roles=[RoleGrant(application="e-auction", role="auctioneer")],
        )
    )
    await snippet.change_organisation(tokens["access_token"], second)
    refreshed = await edge_server.refresh(tokens["refresh_token"], "e-auction")
    caller = await TokenVerifier(issuer=edge_server.base_url, client_id="e-auction").verify(
        refreshed["access_token"]
    )
    assert caller.organisation is not None and caller.organisation.name == "Stad Mechelen"


async def test_react_to_membership_events(
    monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    snippet = load(
        "membership_events",
        monkeypatch,
        EPROC_KAFKA_BOOTSTRAP=kafka_bootstrap,
        EPROC_TOPIC_PREFIX=topic_prefix,
        EPROC_CLIENT_ID="e-auction",
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/app.db")
    async with engine.begin() as conn:
        await conn.run_sync(snippet.metadata.create_all)
    sessions = async_sessionmaker(engine)
    consumer = snippet.membership_consumer(sessions)
    consumer.group_id = f"e-auction-{uuid.uuid4().hex[:8]}"
    user, org = uuid.uuid4(), uuid.uuid4()
    producer = AIOKafkaProducer(**kafka_connection(kafka_bootstrap).aiokafka_options())
    await producer.start()
    try:
        for payload in (
            ev.MembershipGranted(
                user_id=user,
                organisation_id=org,
                roles=[RoleGrant(application="e-auction", role="auctioneer")],
            ),
            ev.MembershipRolesChanged(
                user_id=user,
                organisation_id=org,
                roles=[
                    RoleGrant(application="e-auction", role="auctioneer"),
                    RoleGrant(application="e-auction", role="bidder"),
                    RoleGrant(application="e-tendering", role="reader"),
                ],
            ),
        ):
            envelope = Envelope.wrap(payload, producer="organisations")
            await producer.send_and_wait(
                topic_prefix + "org.membership.v1", encode(envelope), key=str(user).encode()
            )
        async with consumer:
            for _ in range(400):
                if consumer.handled == 2:
                    break
                await asyncio.sleep(0.05)
        async with sessions() as session:
            roles = await session.scalar(select(snippet.role_holder.c.roles))
        assert roles == ["auctioneer", "bidder"]
    finally:
        await producer.stop()
        await engine.dispose()


async def test_report_dossier_links(
    edge_server: EdgeServer,
    bidder: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    kafka_bootstrap: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    snippet = load(
        "dossier_links",
        monkeypatch,
        EPROC_KAFKA_BOOTSTRAP=kafka_bootstrap,
        EPROC_TOPIC_PREFIX=topic_prefix,
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/app.db")
    async with engine.begin() as conn:
        await conn.run_sync(snippet.metadata.create_all)
    sessions = async_sessionmaker(engine)
    tokens = await edge_server.tokens(bidder["user"], "e-auction")
    caller = await TokenVerifier(issuer=edge_server.base_url, client_id="e-auction").verify(
        tokens["access_token"]
    )
    reader = AIOKafkaConsumer(
        topic_prefix + "platform.dossier-link.v1",
        **kafka_connection(kafka_bootstrap).aiokafka_options(),
        group_id=f"organisations-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        async with snippet.dossier_link_relay(sessions) as relay:
            await snippet.add_participant(sessions, relay, "A-2026-12", caller)
            received: list[Any] = []
            for _ in range(100):
                batch = await reader.getmany(timeout_ms=200)
                received += [decode(r.value) for rs in batch.values() for r in rs]
                if received:
                    break
        link = received[0]
        assert isinstance(link.data, ev.DossierLinked)
        assert (link.data.application, link.data.dossier_id) == ("e-auction", "A-2026-12")
        assert (link.data.user_id, link.data.organisation_id) == (bidder["user"].id, bidder["org"])
        assert link.partition_key == str(bidder["user"].id)
        async with sessions() as session:  # published: the row left the outbox
            assert await session.scalar(select(func.count()).select_from(snippet.outbox)) == 0
    finally:
        await reader.stop()
        await engine.dispose()
    assert json.loads((SNIPPETS / "client.json").read_text())["client_id"] == "e-auction"
