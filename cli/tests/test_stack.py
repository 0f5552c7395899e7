"""The local stack (``eproc stack up``): each service its own process over real
PostgreSQL and Kafka behind one proxy origin. A join journey goes through; a
service killed mid-journey is restarted by the supervisor and nothing is lost;
the trace of the decision shows spans from requests, through Kafka, to
organisations, and back to requests and the notifier."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from eproc.stack import StackConfig, database_url, serve_stack
from eproc_identity.operators import set_operator_in_database
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.infra import free_port, postgres_url
from eproc_runtime.testing.servers import json_server
from eproc_runtime.testing.tokens import TestIssuer

ISSUER = TestIssuer()


def enterprise_number() -> str:
    """A fresh valid Belgian enterprise number (mod-97 check digits)."""
    body = random.randint(2_000_000, 9_999_999)
    digits = f"0{body:07d}{97 - body % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


@pytest.fixture
def jwks_url() -> Iterator[str]:
    with json_server(lambda _: ISSUER.jwks()) as url:
        yield f"{url}/jwks"


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
    async with running(config):
        yield config


@asynccontextmanager
async def running(config: StackConfig) -> AsyncIterator[StackConfig]:
    """The stack, until the block ends; then its databases are dropped."""
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
                name = config.database_prefix + service.replace("-", "_")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


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

        request_id = await eventually(in_inbox, timeout=60, interval=0.3)

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

        detail = await eventually(completed, timeout=120, interval=0.3)
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

    spans = await eventually(traced, timeout=30, interval=0.3)
    server = [s for s in spans if s["kind"] == "SERVER"]
    assert server and server[0]["service"].endswith("requests")
    assert "approve" in server[0]["name"]


# --- the trace starts in the portal -----------------------------------------------------

PORTAL_STACK = ("identity", "organisations", "requests", "notifier", "edge", "portal")
SUPERUSER_PASSWORD = "the superuser's long pass phrase"


@pytest.fixture
async def portal_stack(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[tuple[StackConfig, TestIssuer, Any]]:
    """Identity, organisations, requests, notifier, the edge and the portal, each its
    own process. The test's issuer signs as the edge does (same ``iss``, its own key)."""
    from joserfc.jwk import ECKey, KeySet

    port = free_port()
    issuer = TestIssuer(issuer=f"http://127.0.0.1:{port}/sso")
    eid_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    edge_jwks_url = f"http://127.0.0.1:{port}/sso/jwks"

    def keys(path: str) -> dict[str, Any]:
        """``/eid-jwks``: the key the test signs eID ID tokens with; ``/jwks``: the test
        issuer's key beside the edge's own, so that services accept both the portal's
        tokens from the edge and the test's seeding tokens."""
        if path == "/eid-jwks":
            return dict(KeySet([eid_key]).as_dict(private=False))
        found = list(issuer.jwks()["keys"])
        with contextlib.suppress(httpx.HTTPError):  # before the edge is up: ours only
            found += httpx.get(edge_jwks_url, timeout=5).json()["keys"]
        return {"keys": found}

    with json_server(keys) as keys_url:
        config = _portal_stack_config(tmp_path, port, keys_url, kafka_bootstrap, topic_prefix)
        async with running(config):
            yield config, issuer, eid_key


def _portal_stack_config(
    tmp_path: Path, port: int, keys_url: str, kafka_bootstrap: str, topic_prefix: str
) -> StackConfig:
    label = f"pstack{uuid.uuid4().hex[:8]}_"
    return StackConfig(
        data_dir=tmp_path,
        port=port,
        database_admin_url=postgres_url(),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        group_prefix=label,
        database_prefix=label,
        trace_file=tmp_path / "spans.jsonl",
        demo_organisations=0,
        platform_apps=False,
        services=PORTAL_STACK,
        jwks_url=f"{keys_url}/jwks",
        service_env={"identity": {"EPROC_EID_JWKS_URL": f"{keys_url}/eid-jwks"}},
    )


def _eid_token(key: Any, base: str, given_name: str, family_name: str) -> str:
    """An ID token as the eID gateway signs it after reading a card."""
    from joserfc import jwt

    from eproc_eid_gateway.settings import EID_ACR

    now = int(time.time())
    claims = {
        "iss": f"{base}/eid",
        "aud": "portal",
        "sub": uuid.uuid4().hex,
        "given_name": given_name,
        "family_name": family_name,
        "acr": EID_ACR,
        "amr": ["eid"],
        "iat": now - 1,
        "exp": now + 300,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


async def test_approval_in_the_portal_is_one_trace_across_the_stack(
    portal_stack: tuple[StackConfig, TestIssuer, Any],
) -> None:
    """A Superuser approves a join request in the portal (Chromium, a real session
    from the edge's login); the notifier is killed just before and restarted: the
    trace goes portal → requests → (Kafka) organisations → requests and notifier,
    and the decision mail arrives once."""
    import eproc_portal_testkit as steps

    stack, issuer, eid_key = portal_stack
    base = stack.base_url
    operator = {"Authorization": f"Bearer {issuer.user_token(uuid.uuid4(), operator=True)}"}
    suffix = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        users = {}
        for key, given, family in (("superuser", "Els", "Maes"), ("buyer", "Tom", "Wouters")):
            registered = await http.post(
                "/api/identity/registrations",
                json={
                    "id_token": _eid_token(eid_key, base, given, family),
                    "email": f"{given.lower()}.{suffix}@example.be",
                    "language": "nl",
                    "phone": "02 511 11 11",
                    "username": f"{given.lower()}.{suffix}",
                    "password": SUPERUSER_PASSWORD,
                },
            )
            assert registered.status_code == 201, registered.text
            users[key] = registered.json()
        superuser = users["superuser"]
        # The installation's first operator, as `eproc operator --grant --database-url` does.
        helpdesk = await http.post(
            "/api/identity/registrations",
            json={
                "id_token": _eid_token(eid_key, base, "Hilde", "Helpdesk"),
                "email": f"hilde.{suffix}@example.be",
                "language": "nl",
                "phone": "02 511 11 11",
                "username": f"hilde.{suffix}",
                "password": SUPERUSER_PASSWORD,
            },
        )
        assert helpdesk.status_code == 201, helpdesk.text
        await set_operator_in_database(
            database_url(stack, "identity"), f"hilde.{suffix}", enabled=True
        )
        operator = {
            "Authorization": "Bearer "
            + issuer.user_token(uuid.UUID(helpdesk.json()["id"]), operator=True)
        }
        allowed = await http.put(
            f"/api/identity/users/{superuser['id']}/local-login",
            headers=operator,
            json={"enabled": True, "reason": "the Superuser logs in with a password"},
        )
        assert allowed.status_code == 200, allowed.text
        name = f"Stad Tracestad {suffix}"
        created = await http.post(
            "/api/organisations/operator/organisations",
            headers=operator,
            json={
                "names": {"nl": name, "fr": f"Ville de Tracestad {suffix}"},
                "enterprise_number": enterprise_number(),
                "address": {
                    "street": "Markt",
                    "number": "1",
                    "postcode": "9000",
                    "municipality": "Gent",
                },
                "superuser_id": superuser["id"],
            },
        )
        assert created.status_code == 201, created.text
        org = created.json()["id"]
        buyer = {"Authorization": f"Bearer {issuer.user_token(uuid.UUID(users['buyer']['id']))}"}
        for method, path, body in (
            ("POST", "/api/requests/basket/entries", {"organisation_ids": [org]}),
            (
                "PUT",
                "/api/requests/basket/roles",
                {
                    "organisation_ids": [org],
                    "roles": [{"application": "e-notification", "role": "editor"}],
                },
            ),
            ("POST", "/api/requests/basket/submit", {"organisation_ids": [org]}),
        ):
            r = await http.request(method, path, headers=buyer, json=body)
            assert r.status_code < 300, r.text

        # The Superuser logs in through the portal (the edge's password form) and
        # opens the request; the notifier dies (SIGKILL) just before the decision.
        async with steps.chromium() as browser:
            page = await steps.new_page(browser)
            await steps.login_with_password(
                page, base, username=superuser["username"], password=SUPERUSER_PASSWORD
            )
            await steps.open_pending_request(page, base, org, attempts=200)
            notifier_pid = (await http.get("/_stack")).json()["notifier"]["pid"]
            os.kill(notifier_pid, signal.SIGKILL)
            await steps.decide_request(page, "approve")
            await page.context.close()

        async def completed() -> Any:
            mine = await http.get("/api/requests/requests/mine", headers=buyer)
            return mine.status_code == 200 and "completed" in mine.text

        await eventually(completed, timeout=60, interval=0.3)

        async def restarted() -> Any:
            notifier = (await http.get("/_stack")).json()["notifier"]
            return notifier["restarts"] >= 1 and notifier["running"]

        await eventually(restarted, timeout=30, interval=0.3)
        subject = f"Uw toetredingsaanvraag voor {name} is goedgekeurd"

        async def mailed() -> Any:
            return subject in (await http.get("/mail")).text

        await eventually(mailed, timeout=60, interval=0.3)
        await asyncio.sleep(1)  # none doubled, even a little later
        assert (await http.get("/mail")).text.count(f"<h2>{subject}</h2>") == 1

    # One trace from the portal's page through requests, Kafka, organisations, back
    # to requests and to the restarted notifier.
    def service(span: dict[str, Any]) -> str:
        return str(span["service"]).removeprefix(stack.group_prefix)

    async def traced() -> Any:
        assert stack.trace_file is not None
        if not stack.trace_file.exists():
            return None
        spans = [json.loads(line) for line in stack.trace_file.read_text().splitlines()]
        approvals = [
            s
            for s in spans
            if service(s) == "requests" and s["kind"] == "SERVER" and "approve" in s["name"]
        ]
        if not approvals:
            return None
        ours = [s for s in spans if s["trace_id"] == approvals[0]["trace_id"]]
        names = {(service(s), s["name"]) for s in ours}
        wanted = {
            ("organisations", "consume request.approved"),
            ("requests", "consume membership.granted"),
            ("notifier", "consume membership.granted"),
        }
        return ours if wanted <= names else None

    spans = sorted(await eventually(traced, timeout=30, interval=0.3), key=lambda s: s["start"])
    print("\n".join(f"{service(s)} {s['kind']} {s['name']}" for s in spans))
    root = spans[0]
    assert service(root) == "portal" and root["kind"] == "SERVER", spans
    assert root["parent_span_id"] is None and root["name"].startswith("POST /superuser/"), root
    # The portal's call carried its span's traceparent: requests' server span is its child.
    approve = next(s for s in spans if service(s) == "requests" and s["kind"] == "SERVER")
    portal_spans = {s["span_id"] for s in spans if service(s) == "portal"}
    assert approve["parent_span_id"] in portal_spans, spans
    assert len([s for s in spans if s["kind"] == "SERVER"]) == 2, spans  # none doubled
