"""OpenID Connect Dynamic Client Registration (RFC 7591) and its management
protocol (RFC 7592), for application teams' automation (R-APP-1).

- An operator issues an **initial access token** (``POST /clients/initial-tokens``,
  ``eproc clients initial-token``): random, stored hashed, valid for a while and
  for a number of registrations. ``POST /register`` without a valid one is
  refused (401 ``invalid_token``).
- A registration maps the RFC 7591 metadata onto the registry's
  :class:`~eproc_edge.registration.ClientRegistration` and registers through
  :mod:`eproc_edge.registry`: same checks, same audit trail (the issuing
  operator is the actor), same ``edge.client.v1`` event, every edge instance
  takes the client. What a client must not choose for itself is not taken from
  the request: its ``application`` is its own client id (never another
  application's roles), it has no ``resource_servers`` (no one else's audience)
  and declares no roles; operators change those afterwards.
- The answer carries a **registration access token** (stored hashed) and the
  ``registration_client_uri``: ``GET`` reads the client, ``PUT`` replaces its
  metadata, ``DELETE`` disables it for good (its tokens are refused by every
  instance, its registration access token is spent).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_edge import registry
from eproc_edge.models import registration_token
from eproc_edge.registration import ClientRegistration, ClientUpdate, RegisteredClient
from eproc_edge.settings import Settings

INITIAL = "initial"
CLIENT = "client"
LANGUAGES = ("nl", "fr", "de", "en")
_GRANTS = ("authorization_code", "refresh_token", "client_credentials")


class RegistrationError(Exception):
    """An RFC 7591 §3.2.2 error (400) or an RFC 6750 ``invalid_token`` (401)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- initial access tokens


async def issue_initial_token(
    db: AsyncSession, operator: UUID, *, expires_in: int, registrations: int
) -> tuple[str, datetime]:
    """A new initial access token (shown once) and when it expires."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires_at = now + timedelta(seconds=expires_in)
    await db.execute(
        registration_token.insert().values(
            token_hash=_hash(token),
            kind=INITIAL,
            client_id=None,
            issued_by=operator,
            uses_left=registrations,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


async def _spend_initial(db: AsyncSession, token: str) -> UUID:
    """Use one registration of an initial access token; returns its operator."""
    now = datetime.now(UTC)
    row = (
        await db.execute(
            update(registration_token)
            .where(
                registration_token.c.token_hash == _hash(token),
                registration_token.c.kind == INITIAL,
                registration_token.c.uses_left > 0,
                registration_token.c.expires_at > now,
            )
            .values(uses_left=registration_token.c.uses_left - 1)
            .returning(registration_token.c.issued_by)
        )
    ).first()
    if row is None:
        raise RegistrationError("invalid_token", "A valid initial access token is required.", 401)
    return UUID(str(row.issued_by))


async def _registration(db: AsyncSession, token: str, client_id: str) -> UUID:
    """The operator behind the client's registration access token, else 401."""
    row = (
        await db.execute(
            select(registration_token.c.issued_by).where(
                registration_token.c.token_hash == _hash(token),
                registration_token.c.kind == CLIENT,
                registration_token.c.client_id == client_id,
            )
        )
    ).first()
    if row is None:
        raise RegistrationError(
            "invalid_token", "A valid registration access token is required.", 401
        )
    return UUID(str(row.issued_by))


# --- metadata: RFC 7591 <-> the registry


def _names(metadata: Mapping[str, Any], fallback: str) -> dict[str, str]:
    plain = metadata.get("client_name")
    names = {}
    for language in LANGUAGES:
        value = metadata.get(f"client_name#{language}") or plain or fallback
        names[language] = str(value)[:100]
    return names


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}/"


def _fields(metadata: Mapping[str, Any], client_id: str, settings: Settings) -> dict[str, Any]:
    """The registry's fields for RFC 7591 ``metadata`` (what a client may choose)."""
    if not isinstance(metadata, Mapping):
        raise RegistrationError("invalid_client_metadata", "The body must be a JSON object.")
    jwks_uri = metadata.get("jwks_uri")
    # The edge fetches it: never plain http (not even on the loopback) for a
    # client that registered itself, unless the edge itself runs without TLS.
    if (
        jwks_uri is not None
        and settings.issuer.startswith("https://")
        and not str(jwks_uri).startswith("https://")
    ):
        raise RegistrationError("invalid_client_metadata", "jwks_uri: must use https.")
    redirect_uris = metadata.get("redirect_uris") or []
    if not isinstance(redirect_uris, list) or not all(isinstance(u, str) for u in redirect_uris):
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must be a list of URLs.")
    response_types = metadata.get("response_types", ["code"])
    if response_types != ["code"]:
        raise RegistrationError("invalid_client_metadata", "response_types: only 'code'.")
    grant_types = metadata.get("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list) or not set(grant_types) <= set(_GRANTS):
        raise RegistrationError(
            "invalid_client_metadata", "grant_types: any of " + ", ".join(_GRANTS)
        )
    scope = metadata.get("scope", "openid profile email offline_access")
    if not isinstance(scope, str):
        raise RegistrationError("invalid_client_metadata", "scope is a space-separated string.")
    home = metadata.get("client_uri") or (_origin(redirect_uris[0]) if redirect_uris else None)
    if home is None:
        raise RegistrationError("invalid_client_metadata", "client_uri: the application's page.")
    return {
        "names": _names(metadata, client_id),
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": metadata.get("post_logout_redirect_uris", []),
        "backchannel_logout_uri": metadata.get("backchannel_logout_uri"),
        "home_url": home,
        "login_url": metadata.get("initiate_login_uri") or home,
        "grant_types": grant_types,
        "scopes": scope.split(),
        "token_endpoint_auth_method": metadata.get(
            "token_endpoint_auth_method", "client_secret_basic"
        ),
        "jwks": metadata.get("jwks"),
        "jwks_uri": metadata.get("jwks_uri"),
    }


def _invalid(error: ValidationError) -> RegistrationError:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    code = "invalid_redirect_uri" if "redirect_uri" in field else "invalid_client_metadata"
    return RegistrationError(code, f"{field}: {first['msg']}")


def describe(client: RegisteredClient, settings: Settings) -> dict[str, Any]:
    """The client's metadata as RFC 7591 §3.2.1 / RFC 7592 §3 answer it."""
    document: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.names.get("en", client.client_id),
        **{f"client_name#{lang}": client.names[lang] for lang in LANGUAGES if lang in client.names},
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": ["code"],
        "scope": client.scope,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "client_uri": client.home_url,
        "initiate_login_uri": client.login_url,
        "registration_client_uri": f"{settings.issuer}/register/{client.client_id}",
    }
    for optional in ("backchannel_logout_uri", "jwks", "jwks_uri"):
        if getattr(client, optional) is not None:
            document[optional] = getattr(client, optional)
    if client.uses_secret:
        document["client_secret_expires_at"] = 0  # rotated by operators, not expiring
    return document


# --- the protocol's use cases


async def register(
    db: AsyncSession,
    directory: registry.ClientDirectory,
    settings: Settings,
    initial_token: str,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """RFC 7591 §3: register a client with an initial access token."""
    operator = await _spend_initial(db, initial_token)
    client_id = "app-" + secrets.token_hex(8)
    try:
        registration = ClientRegistration(
            client_id=client_id, **_fields(metadata, client_id, settings)
        )
    except ValidationError as error:
        raise _invalid(error) from None
    client, secret = await registry.register(db, directory, settings, registration, operator)
    token = secrets.token_urlsafe(32)
    await db.execute(
        registration_token.insert().values(
            token_hash=_hash(token),
            kind=CLIENT,
            client_id=client_id,
            issued_by=operator,
            uses_left=None,
            created_at=datetime.now(UTC),
            expires_at=None,
        )
    )
    document = describe(client, settings)
    document["registration_access_token"] = token
    if secret is not None:
        document["client_secret"] = secret
    return document


async def read(db: AsyncSession, settings: Settings, token: str, client_id: str) -> dict[str, Any]:
    """RFC 7592 §2.1."""
    await _registration(db, token, client_id)
    return describe(await registry.show_client(db, client_id), settings)


async def replace(
    db: AsyncSession,
    directory: registry.ClientDirectory,
    settings: Settings,
    token: str,
    client_id: str,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """RFC 7592 §2.2: the request's metadata replace the client's."""
    operator = await _registration(db, token, client_id)
    if metadata.get("client_id") not in (None, client_id):
        raise RegistrationError("invalid_client_metadata", "client_id cannot change.")
    try:
        change = ClientUpdate(**_fields(metadata, client_id, settings))
    except ValidationError as error:
        raise _invalid(error) from None
    client = await registry.update(db, directory, settings, client_id, change, operator)
    return describe(client, settings)


async def deregister(
    db: AsyncSession, directory: registry.ClientDirectory, token: str, client_id: str
) -> None:
    """RFC 7592 §2.3: the client is disabled everywhere, its token spent."""
    operator = await _registration(db, token, client_id)
    await registry.set_enabled(db, directory, client_id, False, operator)
    await db.execute(
        delete(registration_token).where(
            registration_token.c.kind == CLIENT, registration_token.c.client_id == client_id
        )
    )
