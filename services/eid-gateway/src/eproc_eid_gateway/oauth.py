"""The OpenID Provider: authlib's server core behind a thin Starlette integration.

authlib's grants (authorization code + PKCE), client authentication, token
endpoint and OIDC id_token rules are synchronous. A route first loads what the
request needs (the authorization code) into an :class:`Exchange`, runs authlib,
whose hooks read the exchange and queue their writes on it, and then performs the
queued writes in its own transaction. The exchange travels in a context variable
because some hooks receive no request.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oidc.core import UserInfo
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_runtime.oauth import (
    ALGORITHM,
    CodeGrant,
    Exchange,
    Exchanges,
    PreparedRequest,
    S256Required,
    SignedOpenIDCode,
    StarletteServerHooks,
    StoredCode,
    secret_hash,
)

from .models import authorization_code
from .settings import ClientConfig, Settings

__all__ = [
    "Client",
    "CodeRecord",
    "Exchange",
    "GatewayAuthorizationServer",
    "GatewayRequest",
    "Principal",
    "exchanges",
    "run",
    "secret_hash",
    "user_claims",
]

SCOPES = ["openid", "profile", "egovnrn"]


class Client(ClientMixin):  # type: ignore[misc]
    """A registered relying party (from configuration)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.client_id = config.client_id

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # every request names its redirect_uri, matched exactly

    def get_allowed_scope(self, scope: str | None) -> str:
        requested = (scope or "openid").split()
        return " ".join(s for s in requested if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.config.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        expected = self.config.client_secret
        return expected is not None and hmac.compare_digest(expected, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.config.client_secret is not None:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class Principal:
    """The card holder a code or token is for: the keyed subject and the names."""

    subject: str
    given_name: str
    family_name: str
    acr: str
    auth_time: int


class CodeRecord(StoredCode):
    """A stored authorization code, as authlib's AuthorizationCodeMixin."""

    AMR = ["eid"]

    def principal(self) -> Principal:
        return Principal(
            subject=self.row.subject,
            given_name=self.row.given_name,
            family_name=self.row.family_name,
            acr=self.row.acr,
            auth_time=self.get_auth_time(),
        )


exchanges: Exchanges[Exchange[CodeRecord]] = Exchanges("eid_exchange")
current_exchange = exchanges.current
run = exchanges.run

GatewayRequest = PreparedRequest


class AuthorizationCodeGrant(CodeGrant):
    exchanges = exchanges

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        principal: Principal = request.user
        data = request.payload.data
        settings: Settings = self.server.settings
        values = {
            "code_hash": secret_hash(code),
            "client_id": request.client.client_id,
            "redirect_uri": data["redirect_uri"],
            "scope": request.payload.scope or "openid",
            "nonce": data.get("nonce"),
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data.get("code_challenge_method", "S256"),
            "subject": principal.subject,
            "given_name": principal.given_name,
            "family_name": principal.family_name,
            "acr": principal.acr,
            "auth_time": datetime.fromtimestamp(principal.auth_time, UTC),
            "expires_at": datetime.fromtimestamp(
                time.time() + settings.authorization_code_lifetime, UTC
            ),
        }

        async def insert(session: AsyncSession) -> None:
            await session.execute(authorization_code.insert().values(**values))

        current_exchange().writes.append(insert)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        pass  # the route deleted the row when it loaded it: a code is taken once

    def authenticate_user(self, authorization_code: CodeRecord) -> Principal:
        return authorization_code.principal()


class GatewayOpenIDCode(SignedOpenIDCode):
    """OIDC id_token rules for the code flow, signed with the gateway's ES256 key."""

    def __init__(self, server: GatewayAuthorizationServer) -> None:
        super().__init__()
        self.server = server

    def signing_key(self) -> Any:
        return self.server.signing_key

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # a nonce is the client's to check; codes are single-use anyway

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        settings = self.server.settings
        now = int(time.time())
        return {
            "iss": settings.base_url,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + settings.id_token_lifetime,
        }

    def generate_user_info(self, user: Principal, scope: str) -> UserInfo:
        return UserInfo(user_claims(user, scope))


def user_claims(user: Principal, scope: str) -> dict[str, Any]:
    """The claims of ``user`` that ``scope`` releases (id_token and userinfo).

    ``egovnrn`` is accepted for compatibility with the federal service, but the
    national number itself is never released: ``sub`` is its keyed hash.
    """
    claims: dict[str, Any] = {"sub": user.subject, "acr": user.acr}
    if "profile" in scope.split():
        claims["given_name"] = user.given_name
        claims["family_name"] = user.family_name
    return claims


class GatewayAuthorizationServer(StarletteServerHooks, AuthorizationServer):  # type: ignore[misc]
    """authlib's AuthorizationServer wired to the gateway's settings, key and clients."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.settings = settings
        self.clients = {c.client_id: Client(c) for c in settings.clients}
        self._signing_key: ECKey | None = None
        self.register_token_generator(
            "default", BearerTokenGenerator(self._access_token, None, self._expires_in)
        )
        self.register_grant(AuthorizationCodeGrant, [S256Required(), GatewayOpenIDCode(self)])

    @property
    def signing_key(self) -> ECKey:
        if self._signing_key is None:
            raise RuntimeError("the signing key is loaded at start-up")
        return self._signing_key

    @signing_key.setter
    def signing_key(self, key: ECKey) -> None:
        self._signing_key = key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.signing_key.as_dict(private=False)]}

    # -- authlib hooks
    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        pass  # access tokens are self-contained JWTs; no refresh tokens

    # -- access tokens (for userinfo)
    def _expires_in(self, client: Client, grant_type: str) -> int:
        return self.settings.access_token_lifetime

    def _access_token(
        self, client: Client, grant_type: str, user: Principal | None, scope: str
    ) -> str:
        now = int(time.time())
        assert user is not None
        claims: dict[str, Any] = {
            "iss": self.settings.base_url,
            "aud": client.client_id,
            "iat": now,
            "exp": now + self.settings.access_token_lifetime,
            "client_id": client.client_id,
            "scope": scope,
            **user_claims(user, scope),
        }
        key = self.signing_key
        return jwt.encode({"alg": ALGORITHM, "kid": str(key.kid), "typ": "at+jwt"}, claims, key)

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of one of our own valid access tokens, else None."""
        try:
            decoded = jwt.decode(token, self.signing_key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != "at+jwt":
                return None
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.settings.base_url},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (ValueError, JoseError):
            return None
        return dict(decoded.claims)
