"""Access-token verification against the edge's JWKS: :class:`TokenVerifier` and
:class:`Caller`, from ``eproc_access_tokens`` (the one implementation the
platform's own services use too)."""

from eproc_access_tokens.tokens import (
    ALGORITHM,
    Caller,
    Organisation,
    TokenVerifier,
    caller_from_claims,
)

__all__ = ["ALGORITHM", "Caller", "Organisation", "TokenVerifier", "caller_from_claims"]
