"""authlib's grants and endpoints, bound to the exchange: PKCE S256 for everyone,
the authorization-code grant, OIDC id_token rules and RP-initiated logout.

The refresh and client-credentials grants, introspection and revocation are the
token path's (:mod:`eproc_edge.tokens`): they do only what the protocol needs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oidc.core import UserInfo
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest

from eproc_edge import repository
from eproc_edge.oauth.models import (
    AUTH_METHODS,
    Client,
    CodeRecord,
    Principal,
    current_exchange,
    exchanges,
    token_hash,
)
from eproc_edge.settings import Settings
from eproc_runtime.oauth import CodeGrant, SignedOpenIDCode

if TYPE_CHECKING:
    from eproc_edge.oauth.server import EdgeAuthorizationServer


class AuthorizationCodeGrant(CodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    exchanges = exchanges

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        principal: Principal = request.user
        data = request.payload.data
        settings: Settings = self.server.settings
        values = {
            "code_hash": token_hash(code),
            "client_id": request.client.client_id,
            "user_id": principal.user_id,
            "session_id": principal.session_id,
            "redirect_uri": data["redirect_uri"],
            "scope": request.scope,
            "nonce": data.get("nonce"),
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data["code_challenge_method"],
            "acr": principal.acr,
            "auth_time": datetime.fromtimestamp(principal.auth_time, UTC),
            "expires_at": datetime.fromtimestamp(
                time.time() + settings.authorization_code_lifetime, UTC
            ),
        }

        current_exchange().writes.append(lambda s: repository.insert_code(s, values))

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        # Kept, marked used, so that a replay is recognised and what the code
        # produced (the refresh token family, if any) can be revoked.

        exchange = current_exchange()
        code_hash = authorization_code.row.code_hash
        exchange.writes.append(
            lambda s: repository.mark_code_used(s, code_hash, exchange.family_id)
        )

    def authenticate_user(self, authorization_code: CodeRecord) -> Principal | None:
        return current_exchange().principal


class EdgeOpenIDCode(SignedOpenIDCode):
    """OIDC id_token rules for the code flow, signed with the current ES256 key."""

    def __init__(self, server: EdgeAuthorizationServer) -> None:
        super().__init__()
        self.server = server

    def signing_key(self) -> Any:
        return self.server.keyring.material.signing

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return current_exchange().nonce_seen

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        settings = self.server.settings
        return {
            "iss": settings.issuer,
            "aud": [client.client_id],
            "exp": int(time.time())
            + (client.config.id_token_lifetime or settings.id_token_lifetime),
        }

    def get_authorization_code_claims(self, authorization_code: CodeRecord) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = authorization_code.row.session_id
        return claims

    def generate_user_info(self, user: Principal, scope: str) -> UserInfo:
        return UserInfo(user_claims(user, scope))


def user_claims(user: Principal, scope: str) -> dict[str, Any]:
    """The claims of ``user`` that ``scope`` releases (id_token and userinfo)."""
    scopes = set(scope.split())
    claims = {"sub": str(user.user_id)}
    profile = ("name", "preferred_username", "given_name", "family_name", "locale")
    for name, value in user.claims.items():
        if name == "claims_version":  # the access token's alone (ClaimsChanged)
            continue
        if name in profile and "profile" not in scopes:
            continue
        if name == "email" and "email" not in scopes:
            continue
        if value is not None:
            claims[name] = value
    return claims


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout: ends the browser's SSO session (or the hint's)."""

    def get_server_jwks(self) -> Any:
        return self.server.keyring.material.published

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        # Our id_tokens carry ``aud`` as a one-element list.
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        exchange = current_exchange()
        session_id = exchange.session_id
        if session_id is None and end_session_request.id_token_claims:
            session_id = end_session_request.id_token_claims.get("sid")
        exchange.ended_session = session_id
