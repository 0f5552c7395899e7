"""The same application code on the hub's embedded, in-process bus (no Kafka): the
SDK's handlers apply membership events, the SDK's relay reports dossier links."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import decode, encode
from eproc_platform_app import members
from eproc_platform_app.main import AppSettings, create_app
from eproc_platform_sdk import DossierLinkReporter
from eproc_runtime.bus.base import Record
from eproc_runtime.messaging import Bus
from eproc_runtime.settings import ServiceSettings


async def test_membership_in_and_dossier_links_out_on_the_inprocess_bus(tmp_path: Path) -> None:
    bus_url = f"sqlite+aiosqlite:///{tmp_path}/bus.db"
    app = create_app(
        AppSettings(
            client_id="e-awarding",
            base_url="http://rp.test/e-awarding",
            edge_url="http://127.0.0.1:9/sso",  # not called in this test
            database_url=f"sqlite+aiosqlite:///{tmp_path}/app.db",
            bus="inprocess",
            bus_database_url=bus_url,
        )
    )
    bus = Bus(
        ServiceSettings(service_name="organisations", bus="inprocess", bus_database_url=bus_url)
    )
    publisher = bus.publisher()
    reader = bus.subscription("reader", ["platform.dossier-link.v1"])
    user, org = uuid.uuid4(), uuid.uuid4()
    async with app.router.lifespan_context(app):
        await publisher.start()
        await reader.start()
        try:
            granted = Envelope.wrap(
                ev.MembershipGranted(
                    user_id=user,
                    organisation_id=org,
                    roles=[RoleGrant(application="e-awarding", role="awarder")],
                ),
                producer="organisations",
            )
            await publisher.publish([Record("org.membership.v1", str(user), encode(granted))])
            sessions = app.state.sessions
            rows: list[Any] = []
            for _ in range(200):
                async with sessions() as session:
                    rows = await members.members_of(session, org)
                if rows:
                    break
                await asyncio.sleep(0.05)
            assert rows == [(user, None, ["awarder"])]  # no name until they open the app
            async with sessions.begin() as session:
                await members.link_dossier(
                    session,
                    DossierLinkReporter("e-awarding", members.outbox),
                    dossier_id="A-1",
                    user_id=user,
                    organisation_id=org,
                )
            app.state.relay.nudge()
            received: list[Any] = []
            for _ in range(100):
                received += await reader.poll(10, 0.1)
                if received:
                    break
            link = decode(received[0].value).data
            assert isinstance(link, ev.DossierLinked)
            assert (link.application, link.dossier_id, link.user_id) == ("e-awarding", "A-1", user)
        finally:
            await reader.stop()
            await publisher.stop()
