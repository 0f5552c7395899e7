"""Mints access tokens for tests, signed with a test key, shaped like the edge's.

Tests pass them through the same :class:`~eproc_runtime.auth.TokenVerifier`
the services use in production.
"""

from __future__ import annotations

import time
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
        return TokenVerifier(issuer=self.issuer, client_id=self.audience, keys=self.keys)

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
