"""What the edge's routes share: the ``Edge`` state and the helpers that turn a
Starlette request into what authlib or a use case needs."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from eproc_edge.assertions import AssertionVerifier
from eproc_edge.claims import ClaimsCache
from eproc_edge.clients import ClientAuthenticator
from eproc_edge.identity_port import IdentityPort
from eproc_edge.keys import KeyRing
from eproc_edge.oauth import (
    EdgeAuthorizationServer,
    EdgeRequest,
)
from eproc_edge.registry import ClientDirectory
from eproc_edge.rotation import RotationBatcher
from eproc_edge.settings import Settings
from eproc_edge.tokens import TokenService
from eproc_edge.upstream import UpstreamProvider
from eproc_platform_sdk.revocation import RevocationList
from eproc_runtime.app import DbSession, ServiceState


@dataclass
class Edge:
    """What the edge's routes share (``app.state.edge``)."""

    settings: Settings
    keyring: KeyRing
    server: EdgeAuthorizationServer
    cache: ClaimsCache
    identity: IdentityPort
    upstream: UpstreamProvider
    authenticator: ClientAuthenticator
    assertions: AssertionVerifier
    revocations: RevocationList = field(default_factory=RevocationList)
    directory: ClientDirectory = field(default_factory=ClientDirectory)
    _tokens: TokenService | None = field(default=None, init=False)

    def token_service(self, state: ServiceState) -> TokenService:
        """The token path's use cases, made on first use from the running service."""
        if self._tokens is None:
            self._tokens = TokenService(
                settings=self.settings,
                server=self.server,
                cache=self.cache,
                sessions=state.sessions,
                rotations=RotationBatcher.for_database(
                    self.settings.database_url,
                    pool_size=self.settings.token_path_pool_size,
                    refresh_token_lifetime=self.settings.refresh_token_lifetime,
                    linger=self.settings.refresh_group_commit_linger,
                ),
                revocations=self.revocations,
                nudge=state.messaging.relay.nudge if state.messaging.relay else _nothing,
            )
        return self._tokens


def _nothing() -> None:
    pass


def _edge(request: Request) -> Edge:
    return request.app.state.edge  # type: ignore[no-any-return]


EdgeDep = Annotated[Edge, Depends(_edge)]


__all__ = ["DbSession", "Edge", "EdgeDep"]


def oauth_uri(edge: Edge, request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{edge.settings.issuer}{request.url.path}{query}"


def oauth_headers(request: Request) -> dict[str, str]:
    return {k.title(): v for k, v in request.headers.items()}


async def form_request(edge: Edge, request: Request) -> EdgeRequest:
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return EdgeRequest("POST", oauth_uri(edge, request), oauth_headers(request), items)


async def bearer_claims(request: Request, edge: Edge) -> dict[str, Any]:
    """The claims of the request's bearer token: one of our user access tokens,
    valid and not revoked, else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    tokens = edge.token_service(request.app.state.service)
    claims = await tokens.active_claims(value) if scheme.lower() == "bearer" else None
    if claims is None or claims.get("token_use") != "user":
        raise HTTPException(
            401,
            detail={"code": "invalid_token", "message": "A valid user access token is required."},
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return claims


def cookie_path(edge: Edge) -> str:
    return urlsplit(edge.settings.issuer).path or "/"


def new_form_token() -> str:
    """A double-submit token for one of the edge's forms (login, logout)."""
    return secrets.token_urlsafe(24)


def set_form_token(response: Response, edge: Edge, cookie: str, token: str, max_age: int) -> None:
    """The cookie half of a form's double-submit token (the page carries the other)."""
    response.set_cookie(
        cookie,
        token,
        max_age=max_age,
        path=cookie_path(edge),
        httponly=True,
        secure=edge.settings.secure_cookies,
        samesite="lax",
    )


def form_token_matches(request: Request, cookie: str, given: str) -> bool:
    """Whether a submitted form carries the token its cookie holds."""
    expected = request.cookies.get(cookie, "")
    return bool(expected) and hmac.compare_digest(expected, given)


def client_or_404(edge: Edge, client_id: str | None, field: str) -> Any:
    client = edge.server.query_client(client_id or "")
    if client is None:
        raise HTTPException(
            404,
            detail={
                "code": "unknown_application",
                "message": "No such application.",
                "field": field,
            },
        )
    return client
