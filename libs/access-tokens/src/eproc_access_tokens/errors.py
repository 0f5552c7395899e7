"""The errors raised when a token is refused.

Every refusal is a :class:`TokenError` with a stable ``code`` (the value an
application puts in its 401 response and its logs). Catch the subclasses to
react differently, e.g. refresh the token on :class:`ExpiredToken`.

=====================  =======================  ==============================================
class                  ``code``                 meaning
=====================  =======================  ==============================================
MissingToken           ``missing_token``        no ``Authorization: Bearer`` header
MalformedToken         ``malformed_token``      not a compact JWS, or not ES256, or bad claims
UnknownKey             ``unknown_key``          signed with a key the edge does not publish
InvalidSignature       ``invalid_signature``    the signature does not match the key
WrongIssuer            ``wrong_issuer``         issued by another issuer than the edge
WrongAudience          ``wrong_audience``       issued to another application (``aud``)
ExpiredToken           ``token_expired``        past ``exp`` (beyond the leeway)
NotYetValid            ``token_not_yet_valid``  before ``nbf``/``iat`` (beyond the leeway)
RevokedToken           ``token_revoked``        revoked at the edge (logout, RFC 7009, reuse)
StaleClaims            ``claims_changed``       memberships changed since: refresh (an ExpiredToken)
=====================  =======================  ==============================================
"""

from __future__ import annotations

from typing import ClassVar


class TokenError(Exception):
    """A token was refused. ``code`` is stable across versions; the message is not."""

    code: ClassVar[str] = "invalid_token"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code

    def as_detail(self) -> dict[str, str]:
        """The JSON body an API answers with (``{"code", "message"}``)."""
        return {"code": self.code, "message": self.message}


class MissingToken(TokenError):
    """No bearer token was sent."""

    code = "missing_token"


class MalformedToken(TokenError):
    """Not a compact JWS, another algorithm than ES256, or malformed claims."""

    code = "malformed_token"


class UnknownKey(TokenError):
    """The token's ``kid`` is not in the edge's JWKS, even after refetching it."""

    code = "unknown_key"


class InvalidSignature(TokenError):
    """The signature does not verify with the key the ``kid`` names."""

    code = "invalid_signature"


class WrongIssuer(TokenError):
    """The ``iss`` claim is not the edge's issuer."""

    code = "wrong_issuer"


class WrongAudience(TokenError):
    """The token was issued to another application (its ``aud`` lacks our client id)."""

    code = "wrong_audience"


class ExpiredToken(TokenError):
    """The token is past its ``exp``: refresh it."""

    code = "token_expired"


class StaleClaims(ExpiredToken):
    """The user's memberships, roles, default organisation or operator status
    changed after the token was issued (the edge's ``ClaimsChanged``): refresh it,
    as an expired one; the next token says what is true now."""

    code = "claims_changed"


class NotYetValid(TokenError):
    """The token's ``nbf`` or ``iat`` lies in the future."""

    code = "token_not_yet_valid"


class RevokedToken(TokenError):
    """The edge revoked the token, its refresh-token family or its session
    (see ``eproc_platform_sdk.revocation``): the user must log in again."""

    code = "token_revoked"


class UserRequired(Exception):
    """The token is valid but names an application's back end where a person must act."""

    code: ClassVar[str] = "user_required"


class EdgeUnavailable(Exception):
    """The edge could not be reached (JWKS, top bar): a server-side problem, not a bad token."""
