"""Dynamic Client Registration (RFC 7591/7592, issue 20; R-APP-1) over the real
edge, PostgreSQL and Kafka: only with an initial access token an operator
issued; the registration access token reads, replaces and deletes the client;
registered clients land in the registry, its audit trail and ``edge.client.v1``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, KeySet

from eproc.__main__ import main
from eproc_contracts.topics import decode
from eproc_runtime.bus.kafka import KafkaSubscription

from .conftest import Browser, EdgeServer
from .test_private_key_jwt import ASSERTION_TYPE, assertion


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def _portal_token(server: EdgeServer, browser: Browser, *, operator: bool) -> str:
    user = await server.create_user()
    if operator:
        server.identity.operators.add(user.id)
    await browser.login(user.username, user.password)
    return str((await browser.tokens("portal"))["access_token"])


async def _initial_token(
    server: EdgeServer, browser: Browser, http: httpx.AsyncClient, registrations: int = 1
) -> tuple[str, dict[str, str]]:
    operator = {"Authorization": f"Bearer {await _portal_token(server, browser, operator=True)}"}
    issued = await http.post(
        f"{server.base_url}/clients/initial-tokens",
        json={"registrations": registrations, "expires_in": 600},
        headers=operator,
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["registration_endpoint"] == f"{server.base_url}/register"
    return str(issued.json()["initial_access_token"]), operator


def _metadata(name: str = "Aanbestedingsrobot", **extra: Any) -> dict[str, Any]:
    return {
        "client_name": "Tender robot",
        "client_name#nl": name,
        "client_name#fr": "Robot des marchés",
        "redirect_uris": ["https://robot.apps.test/callback"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "client_uri": "https://robot.apps.test/",
        "scope": "openid profile email",
        **extra,
    }


async def test_registration_needs_an_operators_initial_access_token(
    edge_server: EdgeServer, browser: Browser, http: httpx.AsyncClient
) -> None:
    register = f"{edge_server.base_url}/register"
    anonymous = await http.post(register, json=_metadata())
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_token"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    forged = await http.post(register, json=_metadata(), headers={"Authorization": "Bearer x"})
    assert forged.status_code == 401
    # A user who is not an operator cannot issue one.
    user = {"Authorization": f"Bearer {await _portal_token(edge_server, browser, operator=False)}"}
    refused = await http.post(
        f"{edge_server.base_url}/clients/initial-tokens", json={}, headers=user
    )
    assert refused.status_code == 403
    # An initial access token for one registration serves one.
    token, operator = await _initial_token(edge_server, browser, http)
    bearer = {"Authorization": f"Bearer {token}"}
    bad = await http.post(
        register, json=_metadata(redirect_uris=["http://evil.test/cb"]), headers=bearer
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_redirect_uri", bad.text
    first = await http.post(register, json=_metadata(), headers=bearer)
    assert first.status_code == 201, first.text  # the refused one did not spend it
    spent = await http.post(register, json=_metadata(), headers=bearer)
    assert spent.status_code == 401
    listed = await http.get(f"{edge_server.base_url}/clients", headers=operator)
    ids = [c["client_id"] for c in listed.json()]
    assert ids.count(first.json()["client_id"]) == 1 and len(ids) == len(set(ids))


async def test_a_registered_client_is_read_replaced_and_deleted_with_its_token(
    edge_server: EdgeServer, browser: Browser, http: httpx.AsyncClient
) -> None:
    reader = KafkaSubscription(
        edge_server.settings.kafka_bootstrap,
        f"reader-{uuid.uuid4().hex}",
        [edge_server.settings.topic_prefix + "edge.client.v1"],
    )
    await reader.start()
    try:
        token, operator = await _initial_token(edge_server, browser, http)
        created = await http.post(
            f"{edge_server.base_url}/register",
            json=_metadata(application="e-tendering", resource_servers=["eproc"]),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        client_id, secret = body["client_id"], body["client_secret"]
        assert body["client_name#nl"] == "Aanbestedingsrobot"
        assert body["client_secret_expires_at"] == 0
        management = {"Authorization": f"Bearer {body['registration_access_token']}"}
        uri = body["registration_client_uri"]
        assert uri == f"{edge_server.base_url}/register/{client_id}"

        # In the registry, audited as the operator's doing, and published.
        shown = (
            await http.get(f"{edge_server.base_url}/clients/{client_id}", headers=operator)
        ).json()
        assert shown["names"]["fr"] == "Robot des marchés"
        # What a client may not choose for itself: another application's roles, audiences.
        assert shown["application"] == client_id and shown["resource_servers"] == []
        changes = (
            await http.get(f"{edge_server.base_url}/clients/{client_id}/changes", headers=operator)
        ).json()
        assert changes[-1]["change"] == "registered" and changes[-1]["changed_by"]
        events = []
        for _ in range(50):
            events += [decode(m.value).data for m in await reader.poll(50, 0.2)]
            if any(getattr(e, "client_id", None) == client_id for e in events):
                break
        assert any(getattr(e, "client_id", None) == client_id for e in events)

        # It works at once: its secret gets a client-credentials token.
        granted = await http.post(
            f"{edge_server.base_url}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert granted.status_code == 200, granted.text

        read = await http.get(uri, headers=management)
        assert (
            read.status_code == 200 and read.json()["redirect_uris"] == _metadata()["redirect_uris"]
        )
        assert (
            await http.get(uri, headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401

        replaced = await http.put(
            uri,
            json=_metadata(name="Robot", redirect_uris=["https://robot.apps.test/v2/callback"]),
            headers=management,
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["redirect_uris"] == ["https://robot.apps.test/v2/callback"]
        shown = (
            await http.get(f"{edge_server.base_url}/clients/{client_id}", headers=operator)
        ).json()
        assert shown["names"]["nl"] == "Robot"

        deleted = await http.delete(uri, headers=management)
        assert deleted.status_code == 204
        refused = await http.post(
            f"{edge_server.base_url}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert (await http.get(uri, headers=management)).status_code == 401
    finally:
        await reader.stop()


async def test_a_client_registers_its_keys_for_private_key_jwt(
    edge_server: EdgeServer, browser: Browser, http: httpx.AsyncClient
) -> None:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    token, _ = await _initial_token(edge_server, browser, http)
    created = await http.post(
        f"{edge_server.base_url}/register",
        json=_metadata(
            token_endpoint_auth_method="private_key_jwt",
            jwks=dict(KeySet([key]).as_dict(private=False)),
        ),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    assert "client_secret" not in created.json()
    client_id = created.json()["client_id"]
    granted = await http.post(
        f"{edge_server.base_url}/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(key, client_id, edge_server.base_url),
        },
    )
    assert granted.status_code == 200, granted.text


async def test_an_operator_issues_an_initial_token_with_the_cli(
    edge_server: EdgeServer,
    browser: Browser,
    http: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``eproc clients initial-token`` (the operator's command) against the edge."""
    token = await _portal_token(edge_server, browser, operator=True)
    command = ["clients", "initial-token", "--registrations", "2", "--expires-in", "3600"]
    target = ["--url", edge_server.base_url, "--edge", "", "--token", token]
    await asyncio.to_thread(main, [*command, *target])
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert "2 registration(s)" in printed and "shown once" in printed
    initial = printed.rsplit(": ", 1)[1]
    bearer = {"Authorization": f"Bearer {initial}"}
    for name in ("Robot een", "Robot twee"):
        created = await http.post(
            f"{edge_server.base_url}/register", json=_metadata(name), headers=bearer
        )
        assert created.status_code == 201, created.text
    third = await http.post(f"{edge_server.base_url}/register", json=_metadata(), headers=bearer)
    assert third.status_code == 401
