"""``--layout light-together``: requests and the notifier (with identity, the light
services) share one process of the real stack, each still with its own database,
consumer group and socket. A join journey goes through, and killing that process
restarts both."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eproc.stack import StackConfig
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.infra import free_port, postgres_url

from .test_stack import ISSUER, enterprise_number, jwks_url, running

__all__ = ["jwks_url"]  # the fixture, shared with test_stack


@pytest.fixture
async def together(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str, jwks_url: str
) -> AsyncIterator[StackConfig]:
    label = f"tog{uuid.uuid4().hex[:8]}_"
    config = StackConfig(
        data_dir=tmp_path,
        port=free_port(),
        database_admin_url=postgres_url(),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        group_prefix=label,
        database_prefix=label,
        demo_organisations=20,
        platform_apps=False,
        services=("organisations", "requests", "notifier"),
        token_issuer=ISSUER.issuer,
        jwks_url=jwks_url,
        layout="light-together",
    )
    async with running(config):
        yield config


async def test_light_services_share_a_process_and_a_join_goes_through(
    together: StackConfig,
) -> None:
    operator = {"Authorization": f"Bearer {ISSUER.user_token(uuid.uuid4(), operator=True)}"}
    superuser_id, buyer_id = uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=together.base_url, timeout=30) as http:
        status = (await http.get("/_stack")).json()
        assert status["requests"]["pid"] == status["notifier"]["pid"]
        assert status["organisations"]["pid"] != status["requests"]["pid"]
        shared_pid = status["requests"]["pid"]
        os.kill(shared_pid, signal.SIGKILL)  # the supervisor restarts both services at once

        created = await http.post(
            "/api/organisations/operator/organisations",
            headers=operator,
            json={
                "names": {"nl": "Stad Samen"},
                "enterprise_number": enterprise_number(),
                "address": {
                    "street": "Markt",
                    "number": "1",
                    "postcode": "9000",
                    "municipality": "Gent",
                },
                "superuser_id": str(superuser_id),
            },
        )
        assert created.status_code == 201, created.text
        org = created.json()["id"]
        superuser_token = ISSUER.user_token(superuser_id, organisation=uuid.UUID(org))
        superuser = {"Authorization": f"Bearer {superuser_token}"}
        buyer = {"Authorization": f"Bearer {ISSUER.user_token(buyer_id)}"}
        body = {"organisation_ids": [org]}
        roles = [{"application": "e-notification", "role": "publisher"}]

        async def submitted() -> bool:
            entries = await http.post("/api/requests/basket/entries", headers=buyer, json=body)
            return entries.status_code < 300

        await eventually(submitted, timeout=120, interval=0.5)
        r = await http.put(
            "/api/requests/basket/roles", headers=buyer, json={**body, "roles": roles}
        )
        assert r.status_code < 300, r.text
        r = await http.post("/api/requests/basket/submit", headers=buyer, json=body)
        assert r.status_code < 300, r.text

        async def in_inbox() -> Any:
            inbox = await http.get(
                "/api/requests/requests/inbox", headers=superuser, params={"organisation_id": org}
            )
            items = inbox.json().get("items", []) if inbox.status_code == 200 else []
            return items[0]["id"] if items else None

        request_id = await eventually(in_inbox, timeout=60, interval=0.3)
        approved = await http.post(
            f"/api/requests/requests/{request_id}/approve", headers=superuser
        )
        assert approved.status_code == 200, approved.text

        async def completed() -> Any:
            detail = await http.get(f"/api/requests/requests/{request_id}", headers=buyer)
            return detail.json() if detail.json().get("status") == "completed" else None

        await eventually(completed, timeout=120, interval=0.3)
        mine = (await http.get("/api/organisations/me/organisations", headers=buyer)).json()
        assert [m["organisation"]["id"] for m in mine] == [org]
        after = (await http.get("/_stack")).json()
        assert after["requests"]["pid"] == after["notifier"]["pid"] != shared_pid
        assert after["requests+notifier"]["restarts"] >= 1


def test_the_local_stack_runs_light_together_unless_told_or_scaled() -> None:
    """``eproc stack up`` runs the layout within 600 MB by default (docs/operations.md);
    ``--scale`` needs separate processes; a layout named is the one run."""
    from eproc.__main__ import stack_layout

    assert stack_layout(None, {}) == "light-together"
    assert stack_layout(None, {"requests": 2}) == "separate"
    assert stack_layout("separate", {}) == "separate"
    with pytest.raises(ValueError, match="unknown process layout"):
        stack_layout("together", {})
