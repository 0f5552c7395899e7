"""The example relying party (examples/platform-app) against a real edge and real
Kafka: it shows who is logged in, the active organisation, its roles and the top
bar; it keeps who holds its roles from membership events; it reports dossier links."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import decode, encode, topic_of
from eproc_platform_app.main import AppSettings, create_app
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher, KafkaSubscription

from .conftest import EdgeServer


async def test_platform_app_end_to_end(edge_server: EdgeServer, tmp_path: Path) -> None:
    org = await edge_server.create_organisation("Stad Antwerpen")
    user_id, username, password = await edge_server.create_user(
        {org: [("e-tendering", "dossier-manager"), ("e-catalogue", "buyer")]}
    )
    settings = edge_server.settings
    app = create_app(
        AppSettings(
            client_id="e-tendering",
            client_secret="secret-e-tendering",
            name="e-Tendering",
            base_url="http://rp.test/e-tendering",
            edge_url=edge_server.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path}/app.db",
            kafka_bootstrap=settings.kafka_bootstrap,
            kafka_username=settings.kafka_username,
            kafka_password=settings.kafka_password,
            topic_prefix=settings.topic_prefix,
            consumer_group=f"e-tendering-{uuid.uuid4().hex[:8]}",
        )
    )
    publisher = KafkaPublisher(settings.kafka_bootstrap, client_id="organisations-stand-in")
    await publisher.start()
    links_topic = settings.topic_prefix + topic_of(ev.DossierLinked).name
    reader = KafkaSubscription(
        settings.kafka_bootstrap, f"reader-{uuid.uuid4().hex}", [links_topic]
    )
    mounts = {"http://rp.test": httpx.ASGITransport(app=app)}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=10) as browser,
        ):
            # The membership, as organisations publishes it, reaches the application
            # (and the edge, which consumes the same topic).
            granted = Envelope.wrap(
                ev.MembershipGranted(
                    user_id=user_id,
                    organisation_id=org,
                    roles=[
                        RoleGrant(application="e-tendering", role="dossier-manager"),
                        RoleGrant(application="e-catalogue", role="buyer"),
                    ],
                ),
                producer="organisations",
            )
            await publisher.publish(
                [Record(settings.topic_prefix + "org.membership.v1", str(user_id), encode(granted))]
            )
            home = await browser.get("http://rp.test/e-tendering/")
            # The anonymous home page says why the user is there, and how to join.
            assert "U ziet de openbare pagina van e-Tendering" in home.text
            assert "Toetreden tot een organisatie" in home.text
            login_page = await browser.get(f"{edge_server.base_url}/login")
            csrf = re.search(r"name='csrf' value='([^']+)'", login_page.text)
            assert csrf is not None
            await browser.post(
                f"{edge_server.base_url}/login/local",
                data={
                    "username": username,
                    "password": password,
                    "return_to": "/authorize?x=1",
                    "csrf": csrf.group(1),
                },
                follow_redirects=False,
            )
            page = await browser.get("http://rp.test/e-tendering/login")
            assert page.status_code == 200, page.text
            assert str(page.url) == "http://rp.test/e-tendering/app"
            assert "U bent aangemeld als <strong>Ann Peeters</strong>" in page.text
            assert '<dd id="organisation">Stad Antwerpen</dd>' in page.text
            assert '<dd id="roles">Dossier manager</dd>' in page.text
            assert "e-catalogue" in page.text and "e-awarding" not in page.text
            member_row = "<tr><td>Ann Peeters</td><td>Dossier manager</td></tr>"
            for _ in range(600):
                if member_row in page.text:
                    break
                await asyncio.sleep(0.05)
                page = await browser.get("http://rp.test/e-tendering/app")
            assert member_row in page.text
            # A dossier link goes out on platform.dossier-link.v1.
            await reader.start()
            # (the application's form carries its per-browser token, R-SEC-5)
            form = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert form is not None, page.text
            linked = await browser.post(
                "http://rp.test/e-tendering/dossiers",
                data={"dossier_id": "T-2026-001", "csrf": form.group(1)},
            )
            assert linked.status_code == 200
            received = []
            for _ in range(100):
                received += await reader.poll(10, 0.2)
                if received:
                    break
            link = decode(received[0].value).data
            assert isinstance(link, ev.DossierLinked)
            assert (link.application, link.dossier_id) == ("e-tendering", "T-2026-001")
            assert (link.user_id, link.organisation_id) == (user_id, org)
    finally:
        await reader.stop()
        await publisher.stop()
