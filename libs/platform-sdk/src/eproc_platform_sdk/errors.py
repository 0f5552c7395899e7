"""The errors raised when a token is refused, from ``eproc_access_tokens.errors``.

Every refusal is a :class:`TokenError` with a stable ``code`` (the value an
application puts in its 401 response and its logs); see that module for the table.
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
    WrongAudience,
    WrongIssuer,
)

__all__ = [
    "EdgeUnavailable",
    "ExpiredToken",
    "InvalidSignature",
    "MalformedToken",
    "MissingToken",
    "NotYetValid",
    "RevokedToken",
    "StaleClaims",
    "TokenError",
    "UnknownKey",
    "WrongAudience",
    "WrongIssuer",
]
