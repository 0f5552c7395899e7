"""The OpenID Provider: authlib's server core behind a thin Starlette integration.

authlib's grants, PKCE, client authentication, token endpoint, revocation,
introspection, RP-initiated logout and id_token rules are synchronous. The
integration keeps I/O out of them: a route first loads what the request needs
(the code, the refresh token, the session, the user's claims) into an
:class:`Exchange`, then runs authlib, whose hooks read the exchange and queue
their writes on it; the route finally runs the queued writes in its unit of
work. The exchange travels in a context variable because some authlib hooks
(``query_token``) receive no request.
"""

from eproc_edge.oauth.grants import (
    AuthorizationCodeGrant,
    EdgeOpenIDCode,
    EndSession,
    user_claims,
)
from eproc_edge.oauth.models import (
    AUTH_METHODS,
    SCOPES,
    Client,
    CodeRecord,
    EdgeRequest,
    Exchange,
    Principal,
    Write,
    current_exchange,
    run,
    token_hash,
)
from eproc_edge.oauth.server import EdgeAuthorizationServer
from eproc_runtime.oauth import S256Required

__all__ = [
    "AUTH_METHODS",
    "SCOPES",
    "AuthorizationCodeGrant",
    "Client",
    "CodeRecord",
    "EdgeAuthorizationServer",
    "EdgeOpenIDCode",
    "EdgeRequest",
    "EndSession",
    "Exchange",
    "Principal",
    "S256Required",
    "Write",
    "current_exchange",
    "run",
    "token_hash",
    "user_claims",
]
