"""Mints access tokens for tests, signed with a test key, shaped like the edge's.

Tests pass them through the same :class:`~eproc_runtime.auth.TokenVerifier`
the services use in production.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc_runtime.auth import TokenVerifier

TEST_ISSUER = "https://sso.test.invalid"


class TestIssuer:
    """A signing key and a way to mint tokens with it."""

    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str = TEST_ISSUER, audience: str = "eproc") -> None:
        self.issuer = issuer
        self.audience = audience
        self.key = ECKey.generate_key(
            "P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True
        )
        self.keys = KeySet([self.key])

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(issuer=self.issuer, audience=self.audience, keys=self.keys)

    def jwks(self) -> dict[str, Any]:
        return dict(self.keys.as_dict(private=False))

    def user_token(
        self,
        user_id: UUID,
        *,
        organisation: UUID | None = None,
        roles: list[str] | None = None,
        operator: bool = False,
        lifetime: int = 300,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "client_id": "portal",
            "iat": now,
            "exp": now + lifetime,
            "roles": roles or [],
            **extra,
        }
        if organisation is not None:
            claims["org_id"] = str(organisation)
        if operator:
            claims["platform_operator"] = True
        return self._sign(claims)

    def client_token(self, client_id: str, *, scope: str = "", lifetime: int = 300) -> str:
        now = int(time.time())
        return self._sign(
            {
                "iss": self.issuer,
                "aud": self.audience,
                "sub": client_id,
                "client_id": client_id,
                "token_use": "client",
                "scope": scope,
                "iat": now,
                "exp": now + lifetime,
            }
        )

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)


@contextmanager
def json_server(document: Callable[[str], dict[str, Any]]) -> Iterator[str]:
    """A small HTTP server (in a thread) answering ``GET <path>`` with
    ``document(path)`` as JSON — key sets for service *processes* that fetch their
    issuers' keys over HTTP. Yields its base URL (``http://127.0.0.1:<port>``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document(self.path)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
