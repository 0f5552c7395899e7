"""Access-token verification for the services' APIs.

The edge signs access tokens (ES256); services verify them against the edge's
JWKS (fetched and cached, refreshed when an unknown ``kid`` shows up, so key
rotation needs no restart). A token only says *who* calls: each service then
authorises the action against its own data (R-SU-1, R-REQ-4).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["ES256"]


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the access token says.

    ``kind="user"`` for a person (``user_id`` set); ``kind="client"`` for a
    platform application's back end using client credentials.
    """

    kind: Literal["user", "client"]
    subject: str
    client_id: str
    user_id: UUID | None = None
    active_organisation: UUID | None = None
    roles: tuple[str, ...] = ()
    platform_operator: bool = False
    scopes: frozenset[str] = field(default_factory=frozenset)
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def require_user(self) -> UUID:
        if self.user_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail={"code": "user_required"})
        return self.user_id


class InvalidToken(Exception):
    """The token is not one of ours, or no longer valid."""


class TokenVerifier:
    """Verifies access tokens against a key set (static, or the edge's JWKS URL)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | None = None,
        jwks_url: str | None = None,
        keys: KeySet | None = None,
        jwks_refresh_interval: float = 300.0,
        leeway: int = 30,
    ) -> None:
        if (jwks_url is None) == (keys is None):
            raise ValueError("give exactly one of jwks_url and keys")
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._keys = keys
        self._fetched_at = 0.0
        self._refresh_interval = jwks_refresh_interval
        self._registry = (
            jwt.JWTClaimsRegistry(
                leeway=leeway,
                iss={"essential": True, "value": issuer},
                exp={"essential": True},
                sub={"essential": True},
                aud={"essential": True, "value": audience},
            )
            if audience
            else jwt.JWTClaimsRegistry(
                leeway=leeway,
                iss={"essential": True, "value": issuer},
                exp={"essential": True},
                sub={"essential": True},
            )
        )

    async def _key_set(self, *, force: bool = False) -> KeySet:
        if self._jwks_url is None:
            assert self._keys is not None
            return self._keys
        stale = time.monotonic() - self._fetched_at > self._refresh_interval
        if self._keys is None or force or stale:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self._jwks_url)
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
            self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> Caller:
        keys = await self._key_set()
        try:
            try:
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            except (ValueError, JoseError):
                if self._jwks_url is None:
                    raise
                # Perhaps the edge rotated its keys since we last looked.
                decoded = jwt.decode(token, await self._key_set(force=True), algorithms=ALGORITHMS)
            self._registry.validate(decoded.claims)
        except (ValueError, JoseError) as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc
        return caller_from_claims(decoded.claims)


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    subject = str(claims["sub"])
    client_id = str(claims.get("client_id") or claims.get("azp") or "")
    is_client = claims.get("token_use") == "client" or subject == client_id
    try:
        user_id = None if is_client else UUID(subject)
        organisation = claims.get("org_id")
        active = UUID(str(organisation)) if organisation else None
    except ValueError as exc:
        raise InvalidToken(f"malformed identifier: {exc}") from exc
    return Caller(
        kind="client" if is_client else "user",
        subject=subject,
        client_id=client_id,
        user_id=user_id,
        active_organisation=active,
        roles=tuple(str(r) for r in claims.get("roles", ())),
        platform_operator=bool(claims.get("platform_operator", False)),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        claims=claims,
    )


_bearer = HTTPBearer(auto_error=False)


async def _current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"code": "not_authenticated", "message": "A bearer token is required."},
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Verified once per request, whoever asks first (the rate limiter, the route).
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        request.state.caller = await verifier.verify(credentials.credentials)
        return request.state.caller  # type: ignore[no-any-return]
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"code": "invalid_token", "message": str(exc)},
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc


CurrentCaller = Annotated[Caller, Depends(_current_caller)]
