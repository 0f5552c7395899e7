"""Abuse limits (issue 11): bounded request bodies on every landed service, NUL
characters refused up front, and the security headers of the eID gateway's
login page (CSP with frame-ancestors, nosniff).

Not here yet: request-submission and search rate limits (429 + Retry-After);
login throttling per account and per source is covered by
``services/identity/tests/test_local_login.py``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from eproc_runtime.limits import DEFAULT_MAX_BODY_BYTES
from eproc_runtime.testing.plugin import CreateDatabase

from .adversarial_support import running_world, snapshot

# One mutating route per service; the body is refused before any route runs.
TARGETS = {
    "identity": ("POST", "/users/me/contacts"),
    "organisations": ("POST", "/operator/organisations"),
    "requests": ("POST", "/basket/entries"),
    "eid-gateway": ("POST", "/authorize/complete"),
}


async def test_limits_and_headers(create_database: CreateDatabase) -> None:
    async with running_world(create_database) as world:
        assert set(TARGETS) == set(world.services), "a service without a body-size check"
        oversized = b'{"name": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
        for name, (method, path) in TARGETS.items():
            service = world.services[name]
            before = await snapshot(service)
            headers = {**world.headers("superuser"), "Content-Type": "application/json"}
            response = await service.client.request(
                method, path, content=oversized, headers=headers
            )
            assert response.status_code == 413, (name, response.text[:200])
            assert response.json()["detail"]["code"] == "body_too_large"

            # Streamed without a Content-Length: still bounded.
            async def chunks() -> object:
                for _ in range(DEFAULT_MAX_BODY_BYTES // 65536 + 2):
                    yield b"x" * 65536

            response = await service.client.request(method, path, content=chunks(), headers=headers)
            assert response.status_code == 413, name

            response = await service.client.request(
                method, path, content=b'{"name": "a\\u0000b"}', headers=headers
            )
            assert response.status_code == 400, name
            assert response.json()["detail"]["code"] == "invalid_character"
            assert await snapshot(service) == before, f"{name}: a refused request changed data"

        # The eID gateway's login page (its only HTML page).
        verifier = "v" * 50
        query = urlencode(
            {
                "response_type": "code",
                "client_id": "edge",
                "redirect_uri": "http://edge/callback",
                "scope": "openid profile",
                "state": "s",
                "nonce": "n",
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        page = await world.services["eid-gateway"].client.get(f"/authorize?{query}")
        assert page.status_code == 200, page.text[:300]
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert "script-src 'nonce-" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
