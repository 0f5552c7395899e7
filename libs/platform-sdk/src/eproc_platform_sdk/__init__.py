"""Integration kit for the applications of the e-procurement platform.

- :class:`TokenVerifier` / :class:`Caller`: verify the edge's access tokens;
  :mod:`eproc_platform_sdk.fastapi` (dependency) and :mod:`eproc_platform_sdk.web`
  (ASGI/WSGI middleware) plug it into a web framework;
- :class:`EdgeLinks` / :class:`EdgeClient`: the top bar, application switch,
  "change organisation" and logout;
- :class:`EventHandlers` / :class:`EventConsumer` and :func:`first_time`: react
  to membership events exactly once in the application's database;
- :class:`DossierLinkReporter` / :class:`OutboxRelay`: report dossier links;
- :class:`RevocationFeed` / :class:`RevocationList`: refuse tokens the edge revoked;
- :func:`sasl_options`: the application's own Kafka credentials (SASL/SCRAM).
"""

from eproc_platform_sdk.consumer import EventConsumer, EventHandlers, handle_once
from eproc_platform_sdk.edge import (
    EdgeClient,
    EdgeLinks,
    EdgeRefused,
    OrganisationChanged,
    TopBar,
    TopBarApplication,
    TopBarOrganisation,
)
from eproc_platform_sdk.errors import (
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
from eproc_platform_sdk.idempotency import first_time, processed_events_table
from eproc_platform_sdk.kafka import sasl_options
from eproc_platform_sdk.outbox import (
    DossierLinkReporter,
    Outbox,
    OutboxRelay,
    OutgoingMessage,
    outbox_table,
)
from eproc_platform_sdk.revocation import RevocationFeed, RevocationList
from eproc_platform_sdk.tokens import Caller, Organisation, TokenVerifier, caller_from_claims
from eproc_platform_sdk.web import BearerAuthMiddleware, WSGIBearerAuthMiddleware

__version__ = "2.0.0"

__all__ = [
    "BearerAuthMiddleware",
    "Caller",
    "DossierLinkReporter",
    "EdgeClient",
    "EdgeLinks",
    "EdgeRefused",
    "EdgeUnavailable",
    "EventConsumer",
    "EventHandlers",
    "ExpiredToken",
    "InvalidSignature",
    "MalformedToken",
    "MissingToken",
    "NotYetValid",
    "Organisation",
    "OrganisationChanged",
    "Outbox",
    "OutboxRelay",
    "OutgoingMessage",
    "RevocationFeed",
    "RevocationList",
    "RevokedToken",
    "StaleClaims",
    "TokenError",
    "TokenVerifier",
    "TopBar",
    "TopBarApplication",
    "TopBarOrganisation",
    "UnknownKey",
    "WSGIBearerAuthMiddleware",
    "WrongAudience",
    "WrongIssuer",
    "__version__",
    "caller_from_claims",
    "first_time",
    "handle_once",
    "outbox_table",
    "processed_events_table",
    "sasl_options",
]
