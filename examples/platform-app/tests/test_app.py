"""The example application end to end, through the SDK's public API only: browser login
at a real edge, the caller and top bar, change organisation, the JSON API's bearer
check, membership events from Kafka, dossier links out through the outbox."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import decode, encode
from eproc_platform_app.main import AppSettings, create_app
from eproc_runtime.bus.kafka import kafka_connection

from .conftest import EdgeServer


async def test_the_example_app_on_the_sdk(edge_server: EdgeServer, tmp_path: Path) -> None:
    ghent = await edge_server.create_organisation("Stad Gent")
    bruges = await edge_server.create_organisation("Stad Brugge")
    user = await edge_server.create_user(
        {ghent: [("e-tendering", "dossier-manager")], bruges: [("e-tendering", "reader")]}
    )
    settings = edge_server.settings
    prefix = settings.topic_prefix
    app = create_app(
        AppSettings(
            client_id="e-tendering",
            client_secret="secret-e-tendering",
            base_url="http://rp.test/e-tendering",
            edge_url=edge_server.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path}/app.db",
            kafka_bootstrap=settings.kafka_bootstrap,
            kafka_username=settings.kafka_username,
            kafka_password=settings.kafka_password,
            topic_prefix=prefix,
            consumer_group=f"e-tendering-{uuid.uuid4().hex[:8]}",
        )
    )
    producer = AIOKafkaProducer(**kafka_connection(settings.kafka_bootstrap).aiokafka_options())
    reader = AIOKafkaConsumer(
        prefix + "platform.dossier-link.v1",
        **kafka_connection(settings.kafka_bootstrap).aiokafka_options(),
        group_id=f"reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await producer.start()
    await reader.start()
    mounts = {"http://rp.test": httpx.ASGITransport(app=app)}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=10) as browser,
        ):
            granted = Envelope.wrap(
                ev.MembershipGranted(
                    user_id=user.id,
                    organisation_id=ghent,
                    roles=[RoleGrant(application="e-tendering", role="dossier-manager")],
                ),
                producer="organisations",
            )
            await producer.send_and_wait(
                prefix + "org.membership.v1", encode(granted), key=str(user.id).encode()
            )
            login_page = await browser.get(f"{edge_server.base_url}/login")
            csrf = re.search(r"name='csrf' value='([^']+)'", login_page.text)
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
            page = await browser.get("http://rp.test/e-tendering/login")
            assert str(page.url) == "http://rp.test/e-tendering/app", page.text
            # In the user's language (the token's locale: Dutch), in the platform's look;
            # names, not ids: without a role catalogue, the role id in words.
            assert '<html lang="nl">' in page.text and "/static/eproc.css" in page.text
            assert "U bent aangemeld als <strong>Ann Peeters</strong>" in page.text
            assert '<dd id="organisation">Stad Gent</dd>' in page.text
            assert '<dd id="roles">Dossier manager</dd>' in page.text
            member_row = "<tr><td>Ann Peeters</td><td>Dossier manager</td></tr>"
            for _ in range(400):  # the membership event arrives through the SDK's consumer
                if member_row in page.text:
                    break
                await asyncio.sleep(0.05)
                page = await browser.get("http://rp.test/e-tendering/app")
            assert member_row in page.text and str(user.id) not in page.text
            # The page's own language switch: French.
            french = await browser.get("http://rp.test/e-tendering/app?lang=fr")
            assert "Vous êtes connecté en tant que <strong>Ann Peeters</strong>" in french.text
            # Every form carries the browser's token: one posted from elsewhere changes nothing.
            form_token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert form_token is not None
            forged = await browser.post(
                "http://rp.test/e-tendering/organisation", data={"organisation_id": str(bruges)}
            )
            assert forged.status_code == 403
            page = await browser.get("http://rp.test/e-tendering/app")
            assert '<dd id="organisation">Stad Gent</dd>' in page.text
            # Change organisation: the refreshed token names Bruges and its roles.
            page = await browser.post(
                "http://rp.test/e-tendering/organisation",
                data={"organisation_id": str(bruges), "csrf": form_token.group(1)},
            )
            assert '<dd id="organisation">Stad Brugge</dd>' in page.text
            assert '<dd id="roles">Reader</dd>' in page.text
            # A dossier link leaves through the outbox.
            page = await browser.post(
                "http://rp.test/e-tendering/dossiers",
                data={"dossier_id": "T-2026-7", "csrf": form_token.group(1)},
            )
            assert "U bent gekoppeld aan dossier T-2026-7." in page.text
            received: list[Any] = []
            for _ in range(100):
                batch = await reader.getmany(timeout_ms=200)
                received += [decode(r.value).data for rs in batch.values() for r in rs]
                if received:
                    break
            assert isinstance(received[0], ev.DossierLinked)
            assert (received[0].dossier_id, received[0].organisation_id) == ("T-2026-7", bruges)
            # The JSON API: bearer tokens, checked by the SDK's dependency.
            tokens = await edge_server.tokens(user, "e-tendering")
            api = await browser.get(
                "http://rp.test/e-tendering/api/me",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            assert api.json()["user_id"] == str(user.id)
            foreign = await edge_server.tokens(user, "e-catalogue")
            refused = await browser.get(
                "http://rp.test/e-tendering/api/me",
                headers={"Authorization": f"Bearer {foreign['access_token']}"},
            )
            assert refused.status_code == 401
            assert refused.json()["detail"]["code"] == "wrong_audience"
    finally:
        await reader.stop()
        await producer.stop()
