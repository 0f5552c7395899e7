"""The embedded mode (SQLite): the same use cases, decisions and reminders work
on the SQLite schema the migrations build."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import httpx

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipGranted
from eproc_requests.api import _directory
from eproc_requests.consumers import HANDLERS
from eproc_requests.main import create_app
from eproc_requests.service.common import utcnow
from eproc_requests.service.reminders import ReminderJob
from eproc_requests.settings import Settings
from eproc_runtime.app import ServiceState
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import BUYER, SUPERUSER, FakeDirectory, ids


async def test_join_decide_complete_and_remind_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/requests.db"
    await upgrade_async("eproc_requests", url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    issuer = TestIssuer()
    settings = Settings(database_url=url, reminder_job_enabled=False)
    app = create_app(settings, token_verifier=issuer.verifier())
    app.dependency_overrides[_directory] = lambda: FakeDirectory()
    app.state.service = ServiceState(settings, engine, sessions, SimpleNamespace(relay=None))  # type: ignore[arg-type]
    requester, superuser, other = ids(3)
    org_a, org_b = ids(2)

    async def feed(payload: Any) -> None:
        envelope = Envelope.wrap(payload, producer="organisations")
        async with unit_of_work(sessions) as session:
            await HANDLERS.dispatch(session, envelope)

    def auth(user: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.user_token(user)}"}

    try:
        for org in (org_a, org_b):
            await feed(MembershipGranted(user_id=superuser, organisation_id=org, roles=[SUPERUSER]))
        await feed(MembershipGranted(user_id=other, organisation_id=org_a, roles=[SUPERUSER]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
            body = {"organisation_ids": [str(org_a), str(org_b)]}
            await client.post("/basket/entries", json=body, headers=auth(requester))
            await client.put(
                "/basket/roles",
                json={**body, "roles": [BUYER.model_dump()]},
                headers=auth(requester),
            )
            response = await client.post("/basket/submit", json=body, headers=auth(requester))
            assert response.status_code == 201, response.text
            by_org = {UUID(r["organisation_id"]): r["id"] for r in response.json()}
            # Two Superusers at once: one decision.
            responses = await asyncio.gather(
                client.post(f"/requests/{by_org[org_a]}/approve", headers=auth(superuser)),
                client.post(
                    f"/requests/{by_org[org_a]}/reject", json={"reason": "no"}, headers=auth(other)
                ),
            )
            assert sorted(r.status_code for r in responses) == [200, 409]
            await feed(
                MembershipGranted(
                    user_id=requester,
                    organisation_id=org_a,
                    roles=[BUYER],
                    request_id=UUID(by_org[org_a]),
                )
            )
            job = ReminderJob(sessions, delay_working_days=3, interval=1)
            assert await job.run_once(now=utcnow() + timedelta(days=7)) == 1  # org_b's request
            assert await job.run_once(now=utcnow() + timedelta(days=7)) == 0
            mine = (await client.get("/requests/mine", headers=auth(requester))).json()
            assert [r["organisation_id"] for r in mine["in_progress"]] == [str(org_b)]
            assert mine["in_progress"][0]["reminders_sent"] == 1
            assert mine["finished"][0]["status"] in {"completed", "rejected"}
    finally:
        await engine.dispose()
