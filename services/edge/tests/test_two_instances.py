"""Two edge instances behind one issuer, on one database and one bus, must agree
(issue 16, issue 18 item 4): a refresh token rotated on one is refused on the
other, and a revocation made on one is seen by the other within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from eproc_edge.main import create_app
from eproc_edge_testkit import FakeIdentity
from eproc_runtime.testing import infra
from eproc_runtime.testing.servers import serving

from .conftest import Browser, EdgeServer

AUTH = ("e-awarding", "secret-e-awarding")


@pytest.fixture(scope="module")
async def other_instance(edge_server: EdgeServer) -> AsyncIterator[str]:
    """A second edge app (same settings: issuer, database, topics), on its own port."""
    port = infra.free_port()
    app = create_app(edge_server.settings, identity=FakeIdentity())
    async with serving(app, port):
        yield f"http://127.0.0.1:{port}"


async def _introspect(http: httpx.AsyncClient, base: str, token: str) -> bool:
    response = await http.post(f"{base}/introspect", data={"token": token}, auth=AUTH)
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


async def _seen_within(deadline: float, check: Any) -> float:
    """Seconds until ``check()`` holds; fails past ``deadline`` seconds."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > deadline:
            raise AssertionError(f"not seen within {deadline} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_token_rotated_on_one_instance_is_refused_on_the_other(
    edge_server: EdgeServer, other_instance: str, browser: Browser
) -> None:
    user = await edge_server.create_user()
    await browser.login(user.username, user.password)
    tokens = await browser.tokens("e-awarding")
    async with httpx.AsyncClient(timeout=10) as http:

        async def refresh(base: str, value: str) -> httpx.Response:
            return await http.post(
                f"{base}/token",
                data={"grant_type": "refresh_token", "refresh_token": value},
                auth=AUTH,
            )

        rotated = await refresh(edge_server.base_url, tokens["refresh_token"])
        assert rotated.status_code == 200
        # The same token presented to the other instance: reuse, refused...
        reuse = await refresh(other_instance, tokens["refresh_token"])
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        # ... and the family is gone on both, with its access tokens.
        again = await refresh(edge_server.base_url, rotated.json()["refresh_token"])
        assert again.status_code == 400
        access = rotated.json()["access_token"]
        await _seen_within(1.0, lambda: _inactive(http, edge_server.base_url, access))
        await _seen_within(1.0, lambda: _inactive(http, other_instance, access))


async def _inactive(http: httpx.AsyncClient, base: str, token: str) -> bool:
    return not await _introspect(http, base, token)


async def test_a_revocation_on_one_instance_is_seen_by_the_other_within_a_second(
    edge_server: EdgeServer, other_instance: str, browser: Browser
) -> None:
    user = await edge_server.create_user()
    await browser.login(user.username, user.password)
    tokens = await browser.tokens("e-awarding")
    access = tokens["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    async with httpx.AsyncClient(timeout=10) as http:
        assert await _introspect(http, other_instance, access)
        assert (await http.get(f"{other_instance}/userinfo", headers=bearer)).status_code == 200
        revoked = await http.post(
            f"{edge_server.base_url}/revoke",
            data={"token": access, "token_type_hint": "access_token"},
            auth=AUTH,
        )
        assert revoked.status_code == 200
        # At once on the instance that revoked it (RFC 7009 §2.2).
        assert not await _introspect(http, edge_server.base_url, access)
        await _seen_within(1.0, lambda: _inactive(http, other_instance, access))
        userinfo = await http.get(f"{other_instance}/userinfo", headers=bearer)
        assert userinfo.status_code == 401
        # The refresh token of the same grant is untouched: only that access token went.
        refreshed = await http.post(
            f"{other_instance}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=AUTH,
        )
        assert refreshed.status_code == 200
        fresh = refreshed.json()["access_token"]
        assert await _introspect(http, edge_server.base_url, fresh)

        # Logging out on one instance ends the session's tokens on the other.
        await browser.logout()
        await _seen_within(1.0, lambda: _inactive(http, other_instance, fresh))


async def test_an_assertion_used_on_one_instance_is_refused_on_the_other(
    edge_server: EdgeServer, other_instance: str
) -> None:
    """private_key_jwt (issue 20): the jti store is PostgreSQL, shared by every instance."""
    from joserfc.jwk import ECKey, KeySet

    from .test_private_key_jwt import ASSERTION_TYPE, assertion, register_key_client

    key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    client_id = await register_key_client(
        edge_server, jwks=dict(KeySet([key]).as_dict(private=False))
    )

    def form(signed: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed,
        }

    async with httpx.AsyncClient(timeout=10) as http:

        async def known_there() -> bool:
            # The other instance learns of the new client from edge.client.v1.
            signed = assertion(key, client_id, edge_server.base_url)
            return (
                await http.post(f"{other_instance}/token", data=form(signed))
            ).status_code == 200

        await _seen_within(5.0, known_there)
        signed = assertion(key, client_id, edge_server.base_url)
        used = await http.post(f"{edge_server.base_url}/token", data=form(signed))
        assert used.status_code == 200, used.text
        replayed = await http.post(f"{other_instance}/token", data=form(signed))
        assert replayed.status_code == 400
        assert replayed.json()["error"] == "invalid_client"
