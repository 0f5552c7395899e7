"""Independent clients complete the whole flow against a real edge server:
panva's openid-client (Node) and authlib's client."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from .conftest import Browser, EdgeServer

NODE_DIR = Path(__file__).parent / "node"


async def _run(*command: str, cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, f"{command}: {err.decode()}\n{out.decode()}"
    return out.decode()


async def test_openid_client_completes_the_flow(edge_server: EdgeServer) -> None:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "Node.js 20+ and npm are required"
    if not (NODE_DIR / "node_modules" / "openid-client").exists():
        await _run(npm, "ci", "--no-audit", "--no-fund", cwd=NODE_DIR)
    org = await edge_server.create_organisation("Stad Brugge")
    user_id, username, password = await edge_server.create_user(
        {org: [("e-tendering", "dossier-manager")]}
    )
    output = await _run(
        node,
        "flow.mjs",
        edge_server.base_url,
        "e-tendering",
        "secret-e-tendering",
        "http://rp.test/e-tendering/callback",
        "http://rp.test/e-tendering/",
        username,
        password,
        cwd=NODE_DIR,
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert result["id_token_claims"]["sub"] == str(user_id)
    assert result["id_token_claims"]["org_id"] == str(org)
    assert result["userinfo"]["preferred_username"] == username
    assert result["userinfo"]["roles"] == ["dossier-manager"]
    assert result["refresh_rotated"] is True
    assert result["logout_status"] == 302
    assert result["logout_location"] == "http://rp.test/e-tendering/?state=bye"
    # The session is over: a silent authorization request needs a login.
    assert result["after_logout_status"] == 302
    assert "error=login_required" in result["after_logout_location"]


async def test_authlib_client_completes_the_flow(edge_server: EdgeServer, browser: Browser) -> None:
    org = await edge_server.create_organisation("Stad Leuven")
    user_id, username, password = await edge_server.create_user(
        {org: [("e-awarding", "publisher")]}
    )
    base = edge_server.base_url
    async with httpx.AsyncClient() as http:
        metadata = (await http.get(f"{base}/.well-known/openid-configuration")).json()
        keys = KeySet.import_key_set((await http.get(metadata["jwks_uri"])).json())
    redirect_uri = "http://rp.test/e-awarding/callback"
    verifier = "v" * 64
    async with AsyncOAuth2Client(
        client_id="e-awarding",
        client_secret="secret-e-awarding",
        scope="openid profile email offline_access",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    ) as rp:
        url, state = rp.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
        )
        assert "code_challenge=" + create_s256_code_challenge(verifier) in url
        await browser.login(username, password)
        response = await browser.http.get(url)
        assert response.status_code == 302
        callback = response.headers["location"]
        assert parse_qs(urlsplit(callback).query)["state"] == [state]
        token = await rp.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        id_token = jwt.decode(token["id_token"], keys)
        assert id_token.claims["sub"] == str(user_id)
        assert id_token.claims["aud"] == ["e-awarding"]
        assert id_token.claims["nonce"] == "n-0S6_WzA2Mj"
        userinfo = (await rp.get(metadata["userinfo_endpoint"])).json()
        assert userinfo["roles"] == ["publisher"] and userinfo["org_name"] == "Stad Leuven"
        refreshed = await rp.refresh_token(metadata["token_endpoint"])
        assert refreshed["refresh_token"] != token["refresh_token"]
    logout = await browser.http.get(
        metadata["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "http://rp.test/e-awarding/",
        },
    )
    assert logout.status_code == 302
    assert logout.headers["location"] == "http://rp.test/e-awarding/"
    after = await browser.authorize("e-awarding", prompt="none")
    assert after["error"] == "login_required"


async def test_openid_client_authenticates_with_private_key_jwt(edge_server: EdgeServer) -> None:
    """RFC 7523 with an independent client: openid-client signs the assertions
    (its ``aud`` is the issuer) at the token, introspection and revocation endpoints."""
    from joserfc.jwk import ECKey

    from .test_private_key_jwt import public, register_key_client

    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "Node.js 20+ and npm are required"
    if not (NODE_DIR / "node_modules" / "openid-client").exists():
        await _run(npm, "ci", "--no-audit", "--no-fund", cwd=NODE_DIR)
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    client_id = await register_key_client(edge_server, jwks=public(key))
    output = await _run(
        node,
        "private_key_jwt.mjs",
        edge_server.base_url,
        client_id,
        json.dumps(key.as_dict(private=True)),
        cwd=NODE_DIR,
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert result["token_type"].lower() == "bearer"
    claims = edge_server.edge.server.verify_access_token(result["access_token"])
    assert claims is not None and claims["client_id"] == client_id
    assert result["introspected"]["active"] is True
    assert result["introspected"]["client_id"] == client_id
    assert result["after_revocation"]["active"] is False
