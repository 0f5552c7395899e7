"""Access tokens on the services' APIs: the ``CurrentCaller`` dependency.

The edge signs access tokens (ES256); services verify them against the edge's
JWKS with ``eproc_access_tokens.TokenVerifier`` (the one implementation the
platform SDK uses too: cached keys, refetched when an unknown ``kid`` shows
up, so key rotation needs no restart). A token only says *who* calls: each
service then authorises the action against its own data (R-SU-1, R-REQ-4).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from eproc_access_tokens import (
    Caller,
    EdgeUnavailable,
    TokenError,
    TokenVerifier,
    UserRequired,
    caller_from_claims,
)

__all__ = [
    "Caller",
    "CurrentCaller",
    "TokenError",
    "TokenVerifier",
    "caller_from_claims",
    "on_user_required",
]

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
    except TokenError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"code": "invalid_token", "message": exc.message},
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    except EdgeUnavailable as exc:
        # The edge's keys cannot be fetched: our problem, not a bad token.
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "edge_unavailable", "message": "Tokens cannot be checked right now."},
            headers={"Retry-After": "5"},
        ) from exc


CurrentCaller = Annotated[Caller, Depends(_current_caller)]


async def on_user_required(_request: Request, exc: Exception) -> JSONResponse:
    """``Caller.require_user()`` refused an application's token (registered by the app factory)."""
    assert isinstance(exc, UserRequired)
    return JSONResponse(
        status_code=status.HTTP_403_FORBIDDEN,
        content={"detail": {"code": "user_required", "message": "Only a person may do this."}},
    )
