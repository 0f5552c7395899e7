"""authlib's AuthorizationServer wired to the edge: clients from the registry,
token generation (ES256 JWT access tokens) and the Starlette responses."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    OAuth2Request,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from joserfc import jwt
from joserfc.errors import JoseError

from eproc_edge import repository
from eproc_edge.keys import ALGORITHM, KeyRing
from eproc_edge.oauth.grants import (
    AuthorizationCodeGrant,
    EdgeOpenIDCode,
    EndSession,
)
from eproc_edge.oauth.models import (
    SCOPES,
    Client,
    Principal,
    current_exchange,
    token_hash,
)
from eproc_edge.settings import Settings
from eproc_runtime.oauth import S256Required, StarletteServerHooks


def _asserted_client(query_client: Any, request: OAuth2Request) -> Client | None:
    """authlib's private_key_jwt: the client the route authenticated already."""
    return current_exchange().asserted_client


class EdgeAuthorizationServer(StarletteServerHooks, AuthorizationServer):  # type: ignore[misc]
    """authlib's AuthorizationServer, wired to the edge's settings, keys and clients."""

    def __init__(self, settings: Settings, keyring: KeyRing, clients: dict[str, Client]) -> None:
        """``clients``: the registry's enabled clients, kept current in place
        (``eproc_edge.registry.ClientDirectory``)."""
        super().__init__(scopes_supported=SCOPES)
        self.settings = settings
        self.keyring = keyring
        self.clients = clients
        self._claims_registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.issuer},
            exp={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
        )
        self.register_token_generator(
            "default",
            BearerTokenGenerator(self._access_token, self._refresh_token, self._expires_in),
        )
        self.register_grant(AuthorizationCodeGrant, [S256Required(), EdgeOpenIDCode(self)])
        # RFC 7523: the assertion is verified (keys, jti) before authlib runs.
        self.register_client_auth_method("private_key_jwt", _asserted_client)
        self.register_endpoint(EndSession)

    # -- authlib hooks
    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        value = token.get("refresh_token")
        if not value:
            return

        exchange = current_exchange()
        principal: Principal = request.user
        now = datetime.now(UTC)
        family = exchange.family_id or uuid.uuid4().hex
        exchange.family_id = family
        values = {
            "token_hash": token_hash(value),
            "family_id": family,
            "client_id": request.client.client_id,
            "user_id": principal.user_id,
            "session_id": principal.session_id,
            "scope": token.get("scope", ""),
            "issued_at": now,
            "expires_at": datetime.fromtimestamp(
                now.timestamp()
                + (
                    request.client.config.refresh_token_lifetime
                    or self.settings.refresh_token_lifetime
                ),
                UTC,
            ),
        }
        exchange.writes.append(lambda s: repository.insert_refresh(s, values))

    # -- token generation
    def _expires_in(self, client: Client, grant_type: str) -> int:
        return self.access_token_lifetime(client)

    def access_token_lifetime(self, client: Client) -> int:
        """The client's own (shorter) lifetime, else the edge's."""
        return client.config.access_token_lifetime or self.settings.access_token_lifetime

    def _refresh_token(self, **_: Any) -> str:
        return secrets.token_urlsafe(48)

    def _access_token(
        self, client: Client, grant_type: str, user: Principal | None, scope: str
    ) -> str:
        # The code grant: the family its refresh token will start (see save_token).
        return self.sign_access_token(client, user, scope, grant_id=current_exchange().family_id)

    def sign_access_token(
        self,
        client: Client,
        user: Principal | None,
        scope: str,
        *,
        lifetime: int | None = None,
        grant_id: str | None = None,
    ) -> str:
        """An ES256 access token shaped for ``eproc_runtime.auth.TokenVerifier``.

        ``grant_id`` names the refresh-token family a user's token was issued
        under: revoking the family revokes the token too (``sso.revocation.v1``).
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            # One audience per application (issue 18): its own, plus the
            # resource servers it calls; another application's token is refused.
            "aud": [client.client_id, *client.config.resource_servers],
            "iat": now,
            "exp": now + (lifetime or self.access_token_lifetime(client)),
            "jti": uuid.uuid4().hex,
            "client_id": client.client_id,
            "scope": scope,
        }
        if user is None:
            claims.update(sub=client.client_id, token_use="client")  # noqa: S106 - not a secret
        else:
            claims.update(
                {k: v for k, v in user.claims.items() if v is not None},
                sub=str(user.user_id),
                sid=user.session_id,
                auth_time=user.auth_time,
                token_use="user",  # noqa: S106 - not a secret
            )
            if grant_id:
                claims["grant_id"] = grant_id
        key = self.keyring.material.signing
        return jwt.encode({"alg": ALGORITHM, "kid": str(key.kid), "typ": "at+jwt"}, claims, key)

    def self_access_token(self) -> str:
        """A client-credentials token of the edge itself, for its calls to identity."""
        now = int(time.time())
        claims = {
            "iss": self.settings.issuer,
            "aud": [self.settings.token_audience],
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
            "sub": self.settings.self_client_id,
            "client_id": self.settings.self_client_id,
            "token_use": "client",
            "scope": "identity:login",
        }
        key = self.keyring.material.signing
        return jwt.encode({"alg": ALGORITHM, "kid": str(key.kid), "typ": "at+jwt"}, claims, key)

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of one of our own valid access tokens (issued to a client we
        know, which is in its audience), else None."""
        try:
            decoded = jwt.decode(token, self.keyring.material.published, algorithms=[ALGORITHM])
            self._claims_registry.validate(decoded.claims)
        except (ValueError, JoseError):
            return None
        claims = dict(decoded.claims)
        client_id = claims.get("client_id")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id not in self.clients or client_id not in audiences:
            return None
        return claims
