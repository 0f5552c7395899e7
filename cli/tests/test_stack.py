"""The local stack (``eproc stack up``): each service its own process over real
PostgreSQL and Kafka behind one proxy origin. A join journey goes through; a
service killed mid-journey is restarted by the supervisor and nothing is lost;
the trace of the decision shows spans from requests, through Kafka, to
organisations, and back to requests and the notifier."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from eproc.stack import StackConfig, serve_stack
from eproc_runtime.testing.infra import free_port, postgres_url
from eproc_runtime.testing.tokens import TestIssuer

ISSUER = TestIssuer()


def enterprise_number() -> str:
    """A fresh valid Belgian enterprise number (mod-97 check digits)."""
    body = random.randint(2_000_000, 9_999_999)
    digits = f"0{body:07d}{97 - body % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


class _Jwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(ISSUER.jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def jwks_url() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()


@pytest.fixture
async def stack(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str, jwks_url: str
) -> AsyncIterator[StackConfig]:
    label = f"stack{uuid.uuid4().hex[:8]}_"
    config = StackConfig(
        data_dir=tmp_path,
        port=free_port(),
        database_admin_url=postgres_url(),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        group_prefix=label,
        database_prefix=label,
        trace_file=tmp_path / "spans.jsonl",
        demo_organisations=50,
        platform_apps=False,
        services=("organisations", "requests", "notifier"),
        token_issuer=ISSUER.issuer,
        jwks_url=jwks_url,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(serve_stack(config, ready))
    done, _ = await asyncio.wait(
        [task, asyncio.create_task(ready.wait())],
        return_when=asyncio.FIRST_COMPLETED,
        timeout=180,
    )
    assert done, "the stack did not start"
    if task in done:
        task.result()  # raises what went wrong
    try:
        yield config
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        admin = await asyncpg.connect(postgres_url())
        try:
            for service in config.services:
                await admin.execute(f'DROP DATABASE IF EXISTS "{label}{service}" WITH (FORCE)')
        finally:
            await admin.close()


async def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.3)


async def test_join_journey_survives_a_killed_service_and_is_traced(stack: StackConfig) -> None:
    base = stack.base_url
    operator = {"Authorization": f"Bearer {ISSUER.user_token(uuid.uuid4(), operator=True)}"}
    superuser_id, buyer_id = uuid.uuid4(), uuid.uuid4()
    roles = [{"application": "e-notification", "role": "publisher"}]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        status = (await http.get("/_stack")).json()
        assert set(status) == {"organisations", "requests", "notifier"}

        # Demo data is there, through the proxy.
        found = await http.get(
            "/api/organisations/organisations/roots",
            headers={"Authorization": f"Bearer {ISSUER.user_token(buyer_id)}"},
        )
        assert found.status_code == 200 and found.json()["total"] > 0, found.text

        # An operator bootstraps an organisation with its first Superuser.
        created = await http.post(
            "/api/organisations/operator/organisations",
            headers=operator,
            json={
                "names": {"nl": "Stad Teststad", "fr": "Ville de Testville"},
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

        # The buyer selects it, picks roles and submits.
        r = await http.post(
            "/api/requests/basket/entries", headers=buyer, json={"organisation_ids": [org]}
        )
        assert r.status_code < 300, r.text
        r = await http.put(
            "/api/requests/basket/roles",
            headers=buyer,
            json={"organisation_ids": [org], "roles": roles},
        )
        assert r.status_code < 300, r.text
        r = await http.post(
            "/api/requests/basket/submit",
            headers=buyer,
            json={"organisation_ids": [org], "justification": "stack test"},
        )
        assert r.status_code < 300, r.text

        # The Superuser sees it once the membership event reached the requests service.
        async def in_inbox() -> Any:
            inbox = await http.get(
                "/api/requests/requests/inbox", headers=superuser, params={"organisation_id": org}
            )
            items = inbox.json().get("items", []) if inbox.status_code == 200 else []
            return items[0]["id"] if items else None

        request_id = await _until(in_inbox)

        # The organisations service dies (SIGKILL) just as the decision is made.
        pid = status["organisations"]["pid"]
        os.kill(pid, signal.SIGKILL)
        trace_id = uuid.uuid4().hex
        approved = await http.post(
            f"/api/requests/requests/{request_id}/approve",
            headers={**superuser, "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"},
        )
        assert approved.status_code == 200, approved.text

        # The supervisor restarts it; the approved request is applied, exactly once.
        async def completed() -> Any:
            detail = await http.get(f"/api/requests/requests/{request_id}", headers=buyer)
            return detail.json() if detail.json().get("status") == "completed" else None

        detail = await _until(completed, timeout=120)
        after = (await http.get("/_stack")).json()["organisations"]
        assert after["restarts"] >= 1 and after["pid"] != pid
        mine = (await http.get("/api/organisations/me/organisations", headers=buyer)).json()
        memberships = [m for m in mine if m["organisation"]["id"] == org]
        assert len(memberships) == 1, mine
        assert [h["status"] for h in detail["history"]].count("completed") == 1, detail

    # One trace: the HTTP decision in requests, its event consumed by organisations,
    # and organisations' membership event consumed by requests and the notifier.
    async def traced() -> Any:
        if not stack.trace_file or not stack.trace_file.exists():
            return None
        spans = [json.loads(line) for line in stack.trace_file.read_text().splitlines()]
        ours = [s for s in spans if s["trace_id"] == trace_id]
        names = {(s["service"].removeprefix(stack.group_prefix), s["name"]) for s in ours}
        wanted = {
            ("organisations", "consume request.approved"),
            ("requests", "consume membership.granted"),
            ("notifier", "consume membership.granted"),
        }
        return ours if wanted <= names else None

    spans = await _until(traced, timeout=30)
    server = [s for s in spans if s["kind"] == "SERVER"]
    assert server and server[0]["service"].endswith("requests")
    assert "approve" in server[0]["name"]
