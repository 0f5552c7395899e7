"""The OpenID Provider's rules: discovery, JWKS, code + PKCE, refresh rotation and
reuse detection, client credentials, and what it refuses."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc_runtime.auth import TokenError, TokenVerifier

from .conftest import Browser, EdgeServer, pkce_pair


async def _verifier(server: EdgeServer, audience: str) -> TokenVerifier:
    """A resource server's verifier: ``audience`` is its own name."""
    return TokenVerifier(
        issuer=server.base_url, client_id=audience, jwks_url=f"{server.base_url}/jwks"
    )


async def test_discovery_names_every_endpoint(edge_server: EdgeServer) -> None:
    async with httpx.AsyncClient() as http:
        meta = (await http.get(f"{edge_server.base_url}/.well-known/openid-configuration")).json()
        keys = (await http.get(meta["jwks_uri"])).json()
    assert meta["issuer"] == edge_server.base_url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert all(k["kty"] == "EC" and "d" not in k for k in keys["keys"])


async def test_code_flow_gives_tokens_the_services_accept(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Stad Gent")
    user_id, username, password = await edge_server.create_user(
        {org: [("e-tendering", "dossier-manager"), ("e-notification", "publisher")]}
    )
    await browser.login(username, password)
    tokens = await browser.tokens("e-tendering")
    caller = await (await _verifier(edge_server, "e-tendering")).verify(tokens["access_token"])
    assert caller.kind == "user" and caller.user_id == user_id
    assert caller.active_organisation == org
    assert caller.roles == {"dossier-manager"}  # only e-Tendering's roles (R-SSO-4)
    assert caller.client_id == "e-tendering"
    assert caller.claims["org_name"] == "Stad Gent"
    assert caller.claims["preferred_username"] == username
    assert "id_token" in tokens and "refresh_token" in tokens


async def test_refresh_rotates_and_reuse_revokes_the_family(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    tokens = await browser.tokens("e-awarding")
    auth = ("e-awarding", "secret-e-awarding")

    async def refresh(value: str) -> httpx.Response:
        return await browser.http.post(
            f"{edge_server.base_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": value},
            auth=auth,
        )

    first = await refresh(tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != tokens["refresh_token"]
    reuse = await refresh(tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # The thief's reuse revoked the whole family: the rotated token is dead too.
    assert (await refresh(rotated)).status_code == 400


async def test_client_credentials_for_an_application_back_end(edge_server: EdgeServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{edge_server.base_url}/token",
            data={"grant_type": "client_credentials"},
            auth=("e-catalogue", "secret-e-catalogue"),
        )
        wrong = await http.post(
            f"{edge_server.base_url}/token",
            data={"grant_type": "client_credentials"},
            auth=("e-catalogue", "not-the-secret"),
        )
    assert response.status_code == 200
    caller = await (await _verifier(edge_server, "e-catalogue")).verify(
        response.json()["access_token"]
    )
    assert caller.kind == "client" and caller.client_id == "e-catalogue"
    assert "refresh_token" not in response.json()
    # No user, so none of the user scopes (issue 18): the client's own scopes only.
    assert not {"openid", "profile", "email", "offline_access"} & set(caller.scopes)
    assert wrong.status_code == 401


async def test_replayed_code_is_refused_and_revokes_its_tokens(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    result = await browser.authorize("e-notification")
    form = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": result["redirect_uri"],
        "code_verifier": result["verifier"],
    }
    auth = ("e-notification", "secret-e-notification")
    url = f"{edge_server.base_url}/token"
    first = await browser.http.post(url, data=form, auth=auth)
    replay = await browser.http.post(url, data=form, auth=auth)
    assert first.status_code == 200
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    refresh = await browser.http.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        auth=auth,
    )
    assert refresh.status_code == 400


async def test_pkce_mismatch_and_missing_pkce_are_refused(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    result = await browser.authorize("e-notification")
    response = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": result["redirect_uri"],
            "code_verifier": "x" * 50,
        },
        auth=("e-notification", "secret-e-notification"),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    no_pkce = await browser.authorize("e-notification", code_challenge="", code_challenge_method="")
    assert no_pkce.get("error") == "invalid_request"
    plain = await browser.authorize("e-notification", code_challenge_method="plain")
    assert plain.get("error") == "invalid_request"


async def test_redirect_uri_must_match_exactly(edge_server: EdgeServer, browser: Browser) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    for uri in (
        "http://rp.test/e-notification/callback/",
        "http://rp.test/e-notification/callback?x=1",
        "http://evil.test/e-notification/callback",
    ):
        result = await browser.authorize("e-notification", redirect_uri=uri)
        assert result["status"] == 400, uri
        assert result["body"]["error"] == "invalid_request"
        assert "code" not in result


async def test_prompt_none_without_session_says_login_required(browser: Browser) -> None:
    result = await browser.authorize("e-tendering", prompt="none")
    assert result["status"] == 302 and result["error"] == "login_required"


async def test_forged_tokens_are_refused(edge_server: EdgeServer, browser: Browser) -> None:
    org = await edge_server.create_organisation("FOD BOSA")
    _, username, password = await edge_server.create_user({org: [("e-tendering", "buyer")]})
    await browser.login(username, password)
    genuine = (await browser.tokens("e-tendering"))["access_token"]
    verifier = await _verifier(edge_server, "e-tendering")
    claims = (await verifier.verify(genuine)).claims
    header = jwt.decode(genuine, edge_server.edge.keyring.material.published).header
    now = int(time.time())
    other = ECKey.generate_key("P-256", auto_kid=True)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    none_token = (
        b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        + "."
        + b64(json.dumps(claims).encode())
        + "."
    )
    forged = {
        "alg none": none_token,
        "another key": jwt.encode({"alg": "ES256", "kid": other.kid}, claims, other),
        "swapped kid": jwt.encode({"alg": "ES256", "kid": header["kid"]}, claims, other),
        "expired": jwt.encode(
            {"alg": "ES256", "kid": header["kid"]},
            {**claims, "exp": now - 120, "iat": now - 600},
            edge_server.edge.keyring.material.signing,
        ),
        "wrong audience": jwt.encode(
            {"alg": "ES256", "kid": header["kid"]},
            {**claims, "aud": ["somebody-else"]},
            edge_server.edge.keyring.material.signing,
        ),
    }
    for name, token in forged.items():
        try:
            await verifier.verify(token)
        except TokenError:
            pass
        else:
            raise AssertionError(f"{name} accepted")
        response = await browser.http.get(
            f"{edge_server.base_url}/userinfo", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, name


async def test_rotated_key_stays_published_and_old_tokens_still_verify(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    before = (await browser.tokens("e-catalogue"))["access_token"]
    async with edge_server.app.state.service.sessions() as session, session.begin():
        await edge_server.edge.keyring.rotate(session)
    after = (await browser.tokens("e-catalogue"))["access_token"]
    keys = KeySet.import_key_set((await browser.http.get(f"{edge_server.base_url}/jwks")).json())
    kid_before = jwt.decode(before, keys).header["kid"]
    kid_after = jwt.decode(after, keys).header["kid"]
    assert kid_before != kid_after
    verifier = await _verifier(edge_server, "e-catalogue")
    assert (await verifier.verify(before)).kind == "user"
    assert (await verifier.verify(after)).kind == "user"


async def test_introspection_and_revocation(edge_server: EdgeServer, browser: Browser) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    tokens = await browser.tokens("e-awarding")
    auth = ("e-awarding", "secret-e-awarding")
    url = edge_server.base_url

    async def active(token: str) -> bool:
        response = await browser.http.post(f"{url}/introspect", data={"token": token}, auth=auth)
        assert response.status_code == 200
        return bool(response.json()["active"])

    assert await active(tokens["access_token"])
    assert await active(tokens["refresh_token"])
    assert not await active("nonsense" + uuid.uuid4().hex)
    revoked = await browser.http.post(
        f"{url}/revoke", data={"token": tokens["refresh_token"]}, auth=auth
    )
    assert revoked.status_code == 200
    assert not await active(tokens["refresh_token"])


async def test_authorization_request_by_post(edge_server: EdgeServer, browser: Browser) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    _verifier, challenge = pkce_pair()
    response = await browser.http.post(
        f"{edge_server.base_url}/authorize",
        data={
            "response_type": "code",
            "client_id": "e-catalogue",
            "redirect_uri": "http://rp.test/e-catalogue/callback",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith("http://rp.test/e-catalogue/callback?code=")


async def test_a_code_is_single_use_without_refresh_tokens_too(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    result = await browser.authorize("no-refresh")
    form = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": result["redirect_uri"],
        "code_verifier": result["verifier"],
    }
    auth = ("no-refresh", "secret-no-refresh")
    first = await browser.http.post(f"{edge_server.base_url}/token", data=form, auth=auth)
    assert first.status_code == 200 and "refresh_token" not in first.json()
    replay = await browser.http.post(f"{edge_server.base_url}/token", data=form, auth=auth)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


async def test_each_application_gets_tokens_for_itself_only(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    tendering = (await browser.tokens("e-tendering"))["access_token"]
    assert (await (await _verifier(edge_server, "e-tendering")).verify(tendering)).client_id
    # Neither another application nor the user-management services accept it.
    for audience in ("e-catalogue", "eproc"):
        try:
            await (await _verifier(edge_server, audience)).verify(tendering)
        except TokenError:
            pass
        else:
            raise AssertionError(f"a token of e-tendering was accepted by {audience}")
    # The portal calls the services: its tokens name them as audience too.
    portal = (await browser.tokens("portal"))["access_token"]
    assert (await (await _verifier(edge_server, "eproc")).verify(portal)).client_id == "portal"


async def test_the_authorization_response_names_its_issuer(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    granted = await browser.authorize("e-tendering")
    meta = await browser.http.get(f"{edge_server.base_url}/.well-known/openid-configuration")
    assert meta.json()["authorization_response_iss_parameter_supported"] is True
    assert granted["iss"] == edge_server.base_url  # RFC 9207 §2
    assert "code" in granted
