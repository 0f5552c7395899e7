"""private_key_jwt client authentication (RFC 7523, issue 20) at /token,
/introspect and /revoke, with authlib's client: keys inline or at a jwks_uri,
and every assertion that must be refused (replayed, long-lived, another
audience, another key, a client that uses a secret)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from eproc_edge import registry
from eproc_edge.registration import ClientRegistration
from eproc_runtime.db import unit_of_work
from eproc_runtime.testing import infra
from eproc_runtime.testing.servers import serving

from .conftest import EdgeServer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


async def register_key_client(
    server: EdgeServer,
    *,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
) -> str:
    """A back end that authenticates with private_key_jwt, in the registry."""
    client_id = f"keyed-{uuid.uuid4().hex[:8]}"
    registration = ClientRegistration(
        client_id=client_id,
        names={"nl": "Sleutel", "fr": "Clé", "de": "Schlüssel", "en": "Key"},
        redirect_uris=[f"http://127.0.0.1/{client_id}/callback"],
        home_url=f"http://127.0.0.1/{client_id}/",
        login_url=f"http://127.0.0.1/{client_id}/login",
        scopes=["openid", "profile", "email", "offline_access"],
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks,
        jwks_uri=jwks_uri,
    )
    edge = server.edge
    async with unit_of_work(server.app.state.service.sessions) as db:
        await registry.register(db, edge.directory, edge.settings, registration, uuid.uuid4())
    return client_id


def public(*keys: Any) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)


def assertion(key: Any, client_id: str, audience: str, *, alg: str = "ES256", **claims: Any) -> str:
    """A client assertion as authlib's client signs it."""
    signed = private_key_jwt_sign(
        key,
        client_id,
        audience,
        alg=alg,
        header={"kid": key.kid},
        claims=claims or None,
    )
    return signed.decode() if isinstance(signed, bytes) else str(signed)


async def _post(server: EdgeServer, path: str, **form: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{server.base_url}{path}", data=form)


async def test_authlibs_client_authenticates_with_its_key_everywhere(
    edge_server: EdgeServer,
) -> None:
    key = new_key()
    client_id = await register_key_client(edge_server, jwks=public(key))
    base = edge_server.base_url
    async with httpx.AsyncClient() as http:
        metadata = (await http.get(f"{base}/.well-known/openid-configuration")).json()
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert "private_key_jwt" in metadata["introspection_endpoint_auth_methods_supported"]
    async with AsyncOAuth2Client(
        client_id=client_id,
        client_secret=key,
        token_endpoint_auth_method=PrivateKeyJWT(alg="ES256", headers={"kid": key.kid}),
        revocation_endpoint_auth_method=PrivateKeyJWT(alg="ES256", headers={"kid": key.kid}),
    ) as rp:
        token = await rp.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        claims = edge_server.edge.server.verify_access_token(token["access_token"])
        assert claims is not None and claims["client_id"] == client_id
        # Without a token endpoint given, authlib's assertion names the endpoint called.
        active = await rp.introspect_token(
            metadata["introspection_endpoint"], token=token["access_token"]
        )
        assert active.status_code == 200 and active.json()["active"] is True
        revoked = await rp.revoke_token(
            metadata["revocation_endpoint"], token=token["access_token"]
        )
        assert revoked.status_code == 200
        after = await rp.introspect_token(
            metadata["introspection_endpoint"], token=token["access_token"]
        )
        assert after.json()["active"] is False


async def test_a_replayed_assertion_is_refused(edge_server: EdgeServer) -> None:
    key = new_key()
    client_id = await register_key_client(edge_server, jwks=public(key))
    signed = assertion(key, client_id, f"{edge_server.base_url}/token")
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    first = await _post(edge_server, "/token", **form)
    assert first.status_code == 200, first.text
    replayed = await _post(edge_server, "/token", **form)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_client"
    assert "used before" in replayed.json()["error_description"]


@pytest.mark.parametrize(
    "case",
    ["long_lived", "expired", "other_audience", "other_key", "no_jti", "secret_client", "hs256"],
)
async def test_assertions_that_do_not_authenticate_are_refused(
    edge_server: EdgeServer, case: str
) -> None:
    key = new_key()
    client_id = await register_key_client(edge_server, jwks=public(key))
    token_url = f"{edge_server.base_url}/token"
    now = int(time.time())
    signed = {
        "long_lived": lambda: assertion(key, client_id, token_url, exp=now + 7200),
        "expired": lambda: assertion(key, client_id, token_url, exp=now - 120, iat=now - 180),
        "other_audience": lambda: assertion(key, client_id, "https://elsewhere.example/token"),
        "other_key": lambda: assertion(new_key(), client_id, token_url),
        "no_jti": lambda: assertion(key, client_id, token_url, jti=None),
        "secret_client": lambda: assertion(key, "e-awarding", token_url),
        "hs256": lambda: jwt.encode(
            {"alg": "HS256"},
            {"iss": client_id, "sub": client_id, "aud": token_url, "exp": now + 60, "jti": "j"},
            OctKey.import_key("a-shared-secret-that-is-long-enough-for-hs256"),
        ),
    }[case]()
    response = await _post(
        edge_server,
        "/token",
        grant_type="client_credentials",
        client_assertion_type=ASSERTION_TYPE,
        client_assertion=signed,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.fixture
async def jwks_server() -> AsyncIterator[tuple[str, list[Any]]]:
    """A client's JWKS URI: serves the public half of ``keys`` (a test adds to it)."""
    keys: list[Any] = []
    app = FastAPI()

    @app.get("/jwks.json")
    async def jwks() -> dict[str, Any]:
        return public(*keys)

    port = infra.free_port()
    async with serving(app, port):
        yield f"http://127.0.0.1:{port}/jwks.json", keys


async def test_keys_at_a_jwks_uri_and_a_new_key_there(
    edge_server: EdgeServer, jwks_server: tuple[str, list[Any]]
) -> None:
    uri, keys = jwks_server
    first = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    keys.append(first)
    client_id = await register_key_client(edge_server, jwks_uri=uri)
    token_url = f"{edge_server.base_url}/token"

    async def grant(key: Any, alg: str) -> httpx.Response:
        return await _post(
            edge_server,
            "/token",
            grant_type="client_credentials",
            client_assertion_type=ASSERTION_TYPE,
            client_assertion=assertion(key, client_id, edge_server.base_url, alg=alg),
        )

    assert (await grant(first, "RS256")).status_code == 200
    # The client rotates: a key published since the edge fetched the set is
    # fetched for (an unknown key id; at most one fetch a second per URI).
    second = new_key()
    keys.append(second)
    await asyncio.sleep(1.1)
    assert (await grant(second, "ES256")).status_code == 200, token_url
    # A key the client removed is no longer accepted once the set is fetched again.
    keys.remove(first)
    await asyncio.sleep(1.1)
    assert (await grant(second, "ES256")).status_code == 200
    stale = await grant(new_key(), "ES256")  # unknown kid: fetched again, still unknown
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_client"
