"""An application that verifies tokens locally refuses the ones the edge revoked,
within a second, from the edge's ``sso.revocation.v1`` events over real Kafka
(issue 18 item 4)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_platform_sdk import (
    ExpiredToken,
    RevocationFeed,
    RevocationList,
    RevokedToken,
    StaleClaims,
    TokenVerifier,
)
from eproc_runtime.bus.kafka import kafka_connection

from .conftest import EdgeServer


@pytest.fixture
async def revocations(edge_server: EdgeServer) -> AsyncIterator[RevocationList]:
    options = kafka_connection(edge_server.settings.kafka_bootstrap).aiokafka_options()
    bootstrap = options.pop("bootstrap_servers")
    revocations = RevocationList()
    async with RevocationFeed(
        revocations,
        bootstrap_servers=bootstrap,
        topic_prefix=edge_server.settings.topic_prefix,
        kafka_options=options,
    ):
        started = time.monotonic()
        while not revocations.is_current:
            assert time.monotonic() - started < 30, "the feed never reached the topic's end"
            await asyncio.sleep(0.05)
        yield revocations


async def _refused_within(verifier: TokenVerifier, token: str, seconds: float) -> None:
    started = time.monotonic()
    while True:
        try:
            await verifier.verify(token)
        except RevokedToken:
            return
        if time.monotonic() - started > seconds:
            raise AssertionError(f"still accepted {seconds} s after the revocation")
        await asyncio.sleep(0.02)


async def test_a_revoked_access_token_is_refused_within_a_second(
    edge_server: EdgeServer, revocations: RevocationList
) -> None:
    user = await edge_server.create_user()
    tokens = await edge_server.tokens(user, "e-tendering")
    verifier = TokenVerifier(
        issuer=edge_server.base_url, client_id="e-tendering", revocations=revocations
    )
    other = await edge_server.tokens(user, "e-tendering")
    assert (await verifier.verify(tokens["access_token"])).user_id == user.id
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{edge_server.base_url}/revoke",
            data={"token": tokens["access_token"]},
            auth=("e-tendering", "secret-e-tendering"),
        )
    assert answer.status_code == 200
    await _refused_within(verifier, tokens["access_token"], 1.0)
    # Another token of the same user (its own grant) is untouched.
    assert (await verifier.verify(other["access_token"])).user_id == user.id


async def test_revoking_a_refresh_token_refuses_the_access_tokens_of_its_family(
    edge_server: EdgeServer, revocations: RevocationList
) -> None:
    user = await edge_server.create_user()
    tokens = await edge_server.tokens(user, "e-tendering")
    refreshed = await edge_server.refresh(tokens["refresh_token"], "e-tendering")
    verifier = TokenVerifier(
        issuer=edge_server.base_url, client_id="e-tendering", revocations=revocations
    )
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{edge_server.base_url}/revoke",
            data={"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
            auth=("e-tendering", "secret-e-tendering"),
        )
    assert answer.status_code == 200
    # Both the first access token and the one the refresh gave: one family.
    await _refused_within(verifier, refreshed["access_token"], 1.0)
    await _refused_within(verifier, tokens["access_token"], 1.0)


async def test_a_membership_change_makes_an_open_applications_token_stale_within_seconds(
    edge_server: EdgeServer, revocations: RevocationList
) -> None:
    """Issue 19 point 7: an open application kept the roles of its token until the
    token expired (up to 5 minutes). The edge's ClaimsChanged, read from Kafka,
    makes the verifier refuse the token as StaleClaims (an ExpiredToken: the
    application refreshes), and the refreshed token carries the change."""
    ghent = await edge_server.create_organisation("Stad Gent")
    user = await edge_server.create_user({ghent: [("e-tendering", "dossier-manager")]})
    tokens = await edge_server.tokens(user, "e-tendering")
    verifier = TokenVerifier(
        issuer=edge_server.base_url, client_id="e-tendering", revocations=revocations
    )
    caller = await verifier.verify(tokens["access_token"])
    assert caller.roles == frozenset({"dossier-manager"})
    changed_at = time.monotonic()
    await edge_server.publish_locally(
        ev.MembershipRolesChanged(
            user_id=user.id,
            organisation_id=ghent,
            roles=[RoleGrant(application="e-tendering", role="reader")],
        )
    )
    while True:
        try:
            await verifier.verify(tokens["access_token"])
        except StaleClaims as stale:
            assert isinstance(stale, ExpiredToken) and stale.code == "claims_changed"
            break
        assert time.monotonic() - changed_at < 5, "the old roles were still accepted after 5 s"
        await asyncio.sleep(0.02)
    refreshed = await edge_server.refresh(tokens["refresh_token"], "e-tendering")
    now = await verifier.verify(refreshed["access_token"])
    assert now.roles == frozenset({"reader"})
    # Another user's tokens are not touched by it.
    other = await edge_server.create_user({ghent: [("e-tendering", "reader")]})
    theirs = await edge_server.tokens(other, "e-tendering")
    assert (await verifier.verify(theirs["access_token"])).user_id == other.id
