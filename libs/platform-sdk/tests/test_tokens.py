"""Token verification against a real edge: the Caller, and each refusal with its own error."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from eproc_platform_sdk import (
    Caller,
    ExpiredToken,
    MalformedToken,
    TokenVerifier,
    UnknownKey,
    WrongAudience,
    WrongIssuer,
)
from eproc_platform_sdk.errors import InvalidSignature

from .conftest import EdgeServer


@pytest.fixture(scope="module")
async def ann(edge_server: EdgeServer) -> dict[str, Any]:
    org = await edge_server.create_organisation("Stad Gent")
    user = await edge_server.create_user(
        {org: [("e-tendering", "dossier-manager"), ("e-catalogue", "buyer")]}
    )
    return {
        "org": org,
        "user": user,
        "tendering": await edge_server.tokens(user, "e-tendering"),
        "catalogue": await edge_server.tokens(user, "e-catalogue"),
    }


def verifier_for(edge_server: EdgeServer, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier(issuer=edge_server.base_url, client_id="e-tendering", **kwargs)


async def test_a_token_of_the_edge_gives_the_caller(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    caller = await verifier_for(edge_server).verify(ann["tendering"]["access_token"])
    assert isinstance(caller, Caller)
    assert caller.kind == "user" and caller.user_id == ann["user"].id
    assert caller.name == "Ann Peeters" and caller.username == ann["user"].username
    assert caller.organisation is not None
    assert (caller.organisation.id, caller.organisation.name) == (ann["org"], "Stad Gent")
    assert caller.roles == {"dossier-manager"}  # this application's roles only
    assert caller.default_organisation_id == ann["org"]
    assert caller.client_id == "e-tendering"


async def test_a_token_for_another_audience_is_refused(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    with pytest.raises(WrongAudience) as refused:
        await verifier_for(edge_server).verify(ann["catalogue"]["access_token"])
    assert refused.value.code == "wrong_audience"


async def test_an_expired_token_is_refused(edge_server: EdgeServer, ann: dict[str, Any]) -> None:
    # The same real token, verified ten minutes later (access tokens live 5 minutes).
    later = verifier_for(edge_server, clock=lambda: time.time() + 600)
    with pytest.raises(ExpiredToken) as refused:
        await later.verify(ann["tendering"]["access_token"])
    assert refused.value.code == "token_expired"


async def test_a_token_from_an_unknown_key_is_refused_after_one_rate_limited_refetch(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    verifier = verifier_for(edge_server)
    await verifier.verify(ann["tendering"]["access_token"])
    assert verifier.jwks_fetches == 1
    claims = dict((await verifier.verify(ann["tendering"]["access_token"])).claims)
    forger = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    forged = jwt.encode({"alg": "ES256", "kid": forger.kid, "typ": "at+jwt"}, claims, forger)
    verifier._fetched_at -= 60  # the last fetch is older than min_refetch_interval
    with pytest.raises(UnknownKey) as refused:
        await verifier.verify(forged)
    assert refused.value.code == "unknown_key"
    assert verifier.jwks_fetches == 2  # it looked again, in case the edge rotated
    with pytest.raises(UnknownKey):
        await verifier.verify(forged)
    assert verifier.jwks_fetches == 2  # ...but not again within the interval


async def test_the_three_refusals_are_distinct(edge_server: EdgeServer) -> None:
    codes = {WrongAudience.code, ExpiredToken.code, UnknownKey.code, MalformedToken.code}
    assert len(codes) == 4
    assert not issubclass(WrongAudience, ExpiredToken | UnknownKey)


async def test_key_rotation_is_picked_up_without_restart(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    verifier = verifier_for(edge_server, min_refetch_interval=0)
    await verifier.verify(ann["tendering"]["access_token"])
    await edge_server.rotate_keys()
    fresh = await edge_server.tokens(ann["user"], "e-tendering")
    caller = await verifier.verify(fresh["access_token"])
    assert caller.user_id == ann["user"].id
    assert verifier.jwks_fetches == 2


async def test_malformed_foreign_and_tampered_tokens(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    verifier = verifier_for(edge_server)
    with pytest.raises(MalformedToken):
        await verifier.verify("not-a-token")

    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    hs = f"{part({'alg': 'HS256', 'kid': 'k'})}.{part({'sub': 'x'})}.c2ln"
    with pytest.raises(MalformedToken):
        await verifier.verify(hs)
    header, _payload, signature = ann["tendering"]["access_token"].split(".")
    other = ann["catalogue"]["access_token"].split(".")[1]
    with pytest.raises(InvalidSignature):
        await verifier.verify(f"{header}.{other}.{signature}")
    stranger = TokenVerifier(
        issuer="https://elsewhere.example", client_id="e-tendering", jwks_url=verifier.jwks_url
    )
    with pytest.raises(WrongIssuer):
        await stranger.verify(ann["tendering"]["access_token"])


async def test_the_sync_path_verifies_too(edge_server: EdgeServer, ann: dict[str, Any]) -> None:
    # In a thread, as a WSGI server would call it (the edge runs on this event loop).
    verifier = verifier_for(edge_server)
    caller = await asyncio.to_thread(verifier.verify_sync, ann["tendering"]["access_token"])
    assert caller.roles == {"dossier-manager"}
