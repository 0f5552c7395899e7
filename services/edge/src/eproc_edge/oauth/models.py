"""What authlib's synchronous core works with, and the per-request exchange that
carries preloaded rows to it and queued writes back (see eproc_edge.oauth)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from authlib.oauth2.rfc6749 import (
    ClientMixin,
)

from eproc_edge.registration import RegisteredClient, secret_matches
from eproc_runtime.oauth import Exchange as BaseExchange
from eproc_runtime.oauth import Exchanges, PreparedRequest, StoredCode, Write
from eproc_runtime.oauth import secret_hash as token_hash

__all__ = [
    "AUTH_METHODS",
    "SCOPES",
    "Client",
    "CodeRecord",
    "EdgeRequest",
    "Exchange",
    "Principal",
    "Write",
    "current_exchange",
    "exchanges",
    "run",
    "token_hash",
]

SCOPES = ["openid", "profile", "email", "offline_access"]
# The edge's client authentication: the providers' shared methods and
# private_key_jwt (RFC 7523, eproc_edge.assertions), listed before "none".
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

# --- models authlib works with -------------------------------------------------


class Client(ClientMixin):  # type: ignore[misc]
    """A registered relying party (one version of it, from the client registry)."""

    def __init__(self, config: RegisteredClient) -> None:
        self.config = config
        self.client_id = config.client_id
        self.application = config.application
        self.client_metadata = {"post_logout_redirect_uris": list(config.post_logout_redirect_uris)}
        # Digests of secrets this version already verified: the argon2 check
        # runs once per secret, not once per code exchange.
        self._verified: set[bytes] = set()

    @property
    def confidential(self) -> bool:
        return self.config.confidential

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # every request names its redirect_uri, matched exactly

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.config.scopes
        if not scope:
            return " ".join(s for s in allowed if s != "offline_access")
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.config.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.config.uses_secret:
            return False
        digest = hashlib.sha256(client_secret.encode()).digest()
        if digest in self._verified:
            return True
        if any(secret_matches(h, client_secret) for h in self.config.secret_hashes):
            self._verified.add(digest)
            return True
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.config.uses_secret:
            return method in ("client_secret_basic", "client_secret_post")
        return method == self.config.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials" and not self.confidential:
            return False
        return grant_type in self.config.grant_types


@dataclass(frozen=True)
class Principal:
    """The user a token is for, with the claims computed for the requesting client."""

    user_id: UUID
    session_id: str
    acr: str
    auth_time: int
    claims: dict[str, Any]


class CodeRecord(StoredCode):
    """A stored authorization code (authlib's AuthorizationCodeMixin)."""


@dataclass
class Exchange(BaseExchange[CodeRecord]):
    """What one request preloaded for authlib, and the writes authlib queued."""

    principal: Principal | None = None
    nonce_seen: bool = False
    session_id: str | None = None  # the browser's SSO session, for logout
    ended_session: str | None = None
    family_id: str | None = None  # the refresh-token family a code grant starts
    asserted_client: Client | None = None  # authenticated by private_key_jwt, before authlib


exchanges: Exchanges[Exchange] = Exchanges("edge_exchange")
current_exchange = exchanges.current
run = exchanges.run


# --- the Starlette side: eproc_runtime.oauth.PreparedRequest is EdgeRequest ---

EdgeRequest = PreparedRequest
