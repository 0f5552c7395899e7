"""Verifying the SSO edge's access tokens, for the services and for the platform's applications.

One implementation, two users: ``eproc_runtime.auth`` (the services' APIs)
and ``eproc_platform_sdk`` (the applications, which re-export it). It needs
only ``httpx`` and ``joserfc``, so the SDK stays small.

- :class:`TokenVerifier`: the edge's JWKS (cached, refetched on an unknown
  ``kid`` at most once per interval) and every check, in order;
- :class:`Caller`: who calls, as the verified token says;
- :mod:`eproc_access_tokens.errors`: one :class:`TokenError` class per refusal,
  each with a stable ``code``.
"""

from eproc_access_tokens.errors import (
    EdgeUnavailable,
    ExpiredToken,
    InvalidSignature,
    MalformedToken,
    MissingToken,
    NotYetValid,
    RevokedToken,
    StaleClaims,
    TokenError,
    UnknownKey,
    UserRequired,
    WrongAudience,
    WrongIssuer,
)
from eproc_access_tokens.tokens import Caller, Organisation, TokenVerifier, caller_from_claims

__all__ = [
    "Caller",
    "EdgeUnavailable",
    "ExpiredToken",
    "InvalidSignature",
    "MalformedToken",
    "MissingToken",
    "NotYetValid",
    "Organisation",
    "RevokedToken",
    "StaleClaims",
    "TokenError",
    "TokenVerifier",
    "UnknownKey",
    "UserRequired",
    "WrongAudience",
    "WrongIssuer",
    "caller_from_claims",
]
