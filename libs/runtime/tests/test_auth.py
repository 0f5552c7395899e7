"""Access tokens: the services accept the edge's and refuse everything else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from uuid import uuid4

import pytest
from joserfc.jwk import ECKey

from eproc_runtime.auth import TokenError
from eproc_runtime.testing.tokens import TestIssuer

issuer = TestIssuer()


def _b64(document: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


verifier = issuer.verifier()


async def test_a_user_token_gives_the_caller() -> None:
    user, org = uuid4(), uuid4()
    caller = await verifier.verify(
        issuer.user_token(user, organisation=org, roles=["superuser"], operator=True)
    )
    assert caller.kind == "user"
    assert caller.user_id == user
    assert caller.active_organisation == org
    assert caller.roles == {"superuser"}
    assert caller.platform_operator


async def test_a_client_token_has_no_user() -> None:
    caller = await verifier.verify(issuer.client_token("e-tendering", scope="dossiers"))
    assert caller.kind == "client" and caller.user_id is None
    assert caller.client_id == "e-tendering" and "dossiers" in caller.scopes


async def test_expired_token_is_refused() -> None:
    token = issuer.user_token(uuid4(), lifetime=-120)
    with pytest.raises(TokenError):
        await verifier.verify(token)


async def test_token_for_another_audience_is_refused() -> None:
    other = TestIssuer(audience="someone-else")
    other.key, other.keys = issuer.key, issuer.keys
    with pytest.raises(TokenError):
        await verifier.verify(other.user_token(uuid4()))


async def test_token_signed_by_another_key_is_refused() -> None:
    with pytest.raises(TokenError):
        await verifier.verify(TestIssuer().user_token(uuid4()))


async def test_unsigned_token_is_refused() -> None:
    now = int(time.time())
    claims = {"iss": issuer.issuer, "aud": "eproc", "sub": str(uuid4()), "exp": now + 60}
    with pytest.raises(TokenError):
        await verifier.verify(f"{_b64({'alg': 'none'})}.{_b64(claims)}.")


async def test_hs256_with_the_public_key_is_refused() -> None:
    # The classic algorithm-confusion attack: HMAC keyed with the public key.
    claims = {
        "iss": issuer.issuer,
        "aud": "eproc",
        "sub": str(uuid4()),
        "exp": int(time.time()) + 60,
    }
    signing_input = f"{_b64({'alg': 'HS256', 'kid': issuer.key.kid})}.{_b64(claims)}"
    secret = issuer.key.as_pem(private=False)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenError):
        await verifier.verify(forged)


def test_key_generation_is_p256() -> None:
    assert isinstance(issuer.key, ECKey)
    assert issuer.key.curve_name == "P-256"
