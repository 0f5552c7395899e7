"""The gateway's ID tokens verified against its JWKS URL (key rotation included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from joserfc.jwk import ECKey, KeySet

from eproc_identity.eid_token import EidTokenVerifier, GatewayKeysUnavailable, InvalidIdToken
from eproc_identity.service.common import Identity
from eproc_runtime.testing.servers import json_server

from .conftest import EID_AUDIENCE, EID_ISSUER, NATIONAL_NUMBER, EidGateway, Running


class _Jwks:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, _Jwks]]:
    """A real HTTP server publishing a key set that the test can change."""
    state = _Jwks()

    def published(_path: str) -> dict[str, Any]:
        state.requests += 1
        return state.document

    with json_server(published) as url:
        yield f"{url}/jwks", state


def _public(*keys: Any) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


async def test_keys_come_from_the_jwks_url_and_rotation_needs_no_restart(
    jwks_server: tuple[str, _Jwks],
) -> None:
    url, state = jwks_server
    gateway = EidGateway()
    state.document = _public(gateway.ec_key)
    verifier = EidTokenVerifier(issuer=EID_ISSUER, audience=EID_AUDIENCE, jwks_url=url)

    holder = await verifier.verify(gateway.id_token(NATIONAL_NUMBER, given_name="Alice"))
    assert holder.given_name == "Alice"
    assert holder.subject == gateway.subject(NATIONAL_NUMBER)
    assert state.requests == 1

    # The gateway rotates to a new key: an unknown kid makes us look again.
    new_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    state.document = _public(new_key)
    rotated = gateway.id_token(NATIONAL_NUMBER, key=new_key)
    assert (await verifier.verify(rotated)).family_name == "Peeters"
    assert state.requests == 2

    with pytest.raises(InvalidIdToken):
        await verifier.verify(gateway.id_token(NATIONAL_NUMBER))  # the retired key


async def test_audience_and_assurance_level_are_checked() -> None:
    gateway = EidGateway()
    verifier = EidTokenVerifier(
        issuer=EID_ISSUER,
        audience=EID_AUDIENCE,
        keys=KeySet.import_key_set(gateway.keys.as_dict(private=False)),
        accepted_acr=["urn:be:fedict:iam:fas:Level500"],
    )
    assert await verifier.verify(gateway.id_token(NATIONAL_NUMBER))
    with pytest.raises(InvalidIdToken):
        await verifier.verify(gateway.id_token(NATIONAL_NUMBER, aud="another-client"))
    with pytest.raises(InvalidIdToken):
        await verifier.verify(
            gateway.id_token(NATIONAL_NUMBER, acr="urn:be:fedict:iam:fas:Level100")
        )
    with pytest.raises(InvalidIdToken):
        await verifier.verify(gateway.id_token(NATIONAL_NUMBER, given_name=""))


async def test_an_unreachable_gateway_is_a_503_not_a_crash(identity: Running) -> None:
    verifier = EidTokenVerifier(
        issuer=EID_ISSUER, audience=EID_AUDIENCE, jwks_url="http://127.0.0.1:9/jwks"
    )
    with pytest.raises(GatewayKeysUnavailable):
        await verifier.verify(EidGateway().id_token(NATIONAL_NUMBER))

    service: Identity = identity.app.state.identity
    identity.app.state.identity = replace(service, eid_tokens=verifier)
    try:
        response = await identity.client.post(
            "/registrations",
            json={
                "id_token": identity.gateway.id_token(NATIONAL_NUMBER),
                "email": "a@example.be",
                "language": "en",
                "phone": "+32 2 511 11 11",
                "username": "unreachable.gateway",
                "password": "long enough password",
            },
        )
    finally:
        identity.app.state.identity = service
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "eid_gateway_unavailable"
    assert response.headers["Retry-After"]


async def test_an_id_token_the_gateway_issued_to_another_client_is_refused() -> None:
    """Identity's default settings require `aud` = the portal's client id at the
    gateway: a token the gateway issued to the edge (a login) cannot register anyone
    (issue 18, item 6)."""
    import json

    from eproc_identity.settings import Settings

    gateway = EidGateway()
    verifier = EidTokenVerifier.from_settings(
        Settings(eid_issuer=EID_ISSUER, eid_jwks=json.dumps(_public(gateway.ec_key)))
    )
    assert (await verifier.verify(gateway.id_token(NATIONAL_NUMBER, aud="portal"))).subject
    for audience in ("edge", ["edge", "e-tendering"], None):
        token = gateway.id_token(NATIONAL_NUMBER, aud=audience)
        with pytest.raises(InvalidIdToken):
            await verifier.verify(token)
