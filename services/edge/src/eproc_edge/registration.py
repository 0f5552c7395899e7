"""What one registered relying party is (R-APP-1), as operators write it and as
the OpenID Provider reads it, and how its secrets are kept.

:class:`ClientRegistration` is the operators' input (API, CLI, portal), with
field-level validation; :class:`ClientUpdate` a partial change of it;
:class:`RegisteredClient` is one client as the registry holds it (no secret,
only the hashes of its valid secrets), which ``eproc_edge.oauth.Client`` wraps
for authlib. Secrets are random (``new_secret``) and stored as argon2id
hashes (:data:`SECRETS`): a stolen registry gives no working credential.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from eproc_contracts import assurance
from eproc_contracts.roles import USER_MANAGEMENT, Capabilities

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
DEFAULT_SCOPES = ["openid", "profile", "email", "offline_access"]
DEFAULT_GRANTS: list[GrantType] = ["authorization_code", "refresh_token", "client_credentials"]

# argon2id at OWASP's minimum profile (19 MiB, 2 passes): a client secret is
# 256 random bits, so the hash only has to make a stolen registry useless, and
# a check that misses every cache stays cheap for the token path.
SECRETS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

_ID = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
_SCOPE_TOKEN = r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$"  # noqa: S105 - RFC 6749 §3.3
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def new_secret() -> str:
    """A fresh client secret (shown once, never stored in clear)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return SECRETS.hash(secret)


def secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return SECRETS.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def _check_url(value: str, *, redirect: bool) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    # Security by default: https, except on the loopback (development, tests).
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError("must use https (http only on localhost)")
    if redirect and parts.fragment:
        raise ValueError("must not contain a fragment (RFC 6749 §3.1.2)")
    return value


def _redirect_list(values: list[str]) -> list[str]:
    return [_check_url(v, redirect=True) for v in values]


def _url_or_none(value: str | None) -> str | None:
    return None if value is None else _check_url(value, redirect=False)


def _scope_list(values: list[str]) -> list[str]:
    for value in values:
        if not re.match(_SCOPE_TOKEN, value):
            raise ValueError(f"{value!r} is not a scope token (RFC 6749 §3.3)")
    return values


def _on_the_ladder(value: str | None) -> str | None:
    if value is not None and assurance.level(value) is None:
        raise ValueError("must be a federal level, urn:be:fedict:iam:fas:LevelNNN")
    return value


def _audience_list(values: list[str]) -> list[str]:
    for value in values:
        if not re.match(_ID, value):
            raise ValueError(f"{value!r} is not an audience name")
    return values


class Names(BaseModel):
    """An application's name in each of the platform's languages (R-I18N-1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: str = Field(min_length=1, max_length=100)
    fr: str = Field(min_length=1, max_length=100)
    de: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)


class DeclaredRole(BaseModel):
    """A role the application declares with its registration (SPEC §4): the role
    catalogue's entry, named and described in every language of the platform
    (R-ROLE-3, R-I18N-1). Once published, organisations can give it and buyers ask
    for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID, description="lower-case letters, digits and dashes")
    names: Names
    descriptions: Capabilities = Field(description="what the role may do, per language")
    cascades: bool = Field(
        default=False,
        description="R-ROLE-2: chosen in one application, given in every one that has it",
    )
    must_keep: bool = Field(
        default=False,
        description="R-REQ-8: an organisation's last holder may not give it up",
    )


def _distinct_roles(values: list[DeclaredRole] | None) -> list[DeclaredRole] | None:
    seen: set[str] = set()
    for role in values or ():
        if role.id in seen:
            raise ValueError(f"the role id {role.id!r} is declared twice")
        seen.add(role.id)
    return values


class _ClientFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: Names
    application: str | None = Field(
        default=None,
        pattern=_ID,
        description="The application whose roles its tokens carry; default: the client id",
    )
    redirect_uris: list[str] = Field(max_length=20)
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    backchannel_logout_uri: str | None = None
    home_url: str = Field(description="The application's anonymous home page (R-SSO-3)")
    login_url: str = Field(description="Where an application switch sends the browser to log in")
    grant_types: list[GrantType] = Field(default_factory=lambda: list(DEFAULT_GRANTS))
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES), max_length=50)
    resource_servers: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Audiences its access tokens carry besides its own client id",
    )
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"  # noqa: S105 - a method
    jwks: dict[str, Any] | None = Field(default=None, description="private_key_jwt: its keys")
    jwks_uri: str | None = Field(default=None, description="private_key_jwt: where its keys are")
    require_pkce: Literal[True] = Field(
        default=True, description="PKCE (S256) is required of every client (OAuth 2.1)"
    )
    minimum_acr: str | None = Field(
        default=None,
        description="The weakest login its users may come with (a federal level): step-up",
    )
    access_token_lifetime: int | None = Field(default=None, ge=60, le=3600)
    id_token_lifetime: int | None = Field(default=None, ge=60, le=3600)
    refresh_token_lifetime: int | None = Field(default=None, ge=300, le=30 * 24 * 3600)
    roles: list[DeclaredRole] = Field(
        default_factory=list,
        max_length=50,
        description="The roles the application declares: the role catalogue's entries",
    )
    enabled: bool = True

    @field_validator("roles")
    @classmethod
    def _roles(cls, values: list[DeclaredRole]) -> list[DeclaredRole]:
        return _distinct_roles(values) or []

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _redirects(cls, values: list[str]) -> list[str]:
        return _redirect_list(values)

    @field_validator("backchannel_logout_uri", "home_url", "login_url", "jwks_uri")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _url_or_none(value)

    @field_validator("minimum_acr")
    @classmethod
    def _acr(cls, value: str | None) -> str | None:
        return _on_the_ladder(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, values: list[str]) -> list[str]:
        return _scope_list(values)

    @field_validator("resource_servers")
    @classmethod
    def _audiences(cls, values: list[str]) -> list[str]:
        return _audience_list(values)


def check_consistency(values: dict[str, Any]) -> None:
    """The rules across fields (the registry checks them on the merged values)."""
    method = values["token_endpoint_auth_method"]
    grants = values["grant_types"]
    if "authorization_code" in grants and not values["redirect_uris"]:
        raise FieldError("redirect_uris", "at least one is needed for the code grant")
    if method == "private_key_jwt":
        if (values.get("jwks") is None) == (values.get("jwks_uri") is None):
            raise FieldError("jwks", "private_key_jwt needs exactly one of jwks and jwks_uri")
    elif values.get("jwks") is not None or values.get("jwks_uri") is not None:
        raise FieldError("jwks", "only a private_key_jwt client has keys")
    if method == "none" and "client_credentials" in grants:
        raise FieldError("grant_types", "a public client cannot use client_credentials")
    application = values.get("application") or values.get("client_id")
    if application == USER_MANAGEMENT and values.get("roles"):
        raise FieldError("roles", "the hub's own roles come with the platform, not a registration")


class FieldError(ValueError):
    """A rule across fields broken, named by the field to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ClientRegistration(_ClientFields):
    """A new relying party, as an operator registers it."""

    client_id: str = Field(pattern=_ID)


class ClientUpdate(BaseModel):
    """A change of some of a client's fields (the others keep their value)."""

    model_config = ConfigDict(extra="forbid")

    names: Names | None = None
    application: str | None = Field(default=None, pattern=_ID)
    redirect_uris: list[str] | None = Field(default=None, max_length=20)
    post_logout_redirect_uris: list[str] | None = Field(default=None, max_length=20)
    backchannel_logout_uri: str | None = None
    home_url: str | None = None
    login_url: str | None = None
    grant_types: list[GrantType] | None = None
    scopes: list[str] | None = Field(default=None, max_length=50)
    resource_servers: list[str] | None = Field(default=None, max_length=20)
    token_endpoint_auth_method: AuthMethod | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    require_pkce: Literal[True] | None = None
    minimum_acr: str | None = None
    access_token_lifetime: int | None = Field(default=None, ge=60, le=3600)
    id_token_lifetime: int | None = Field(default=None, ge=60, le=3600)
    refresh_token_lifetime: int | None = Field(default=None, ge=300, le=30 * 24 * 3600)
    roles: list[DeclaredRole] | None = Field(default=None, max_length=50)

    @field_validator("roles")
    @classmethod
    def _roles(cls, values: list[DeclaredRole] | None) -> list[DeclaredRole] | None:
        return _distinct_roles(values)

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _redirects(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _redirect_list(values)

    @field_validator("backchannel_logout_uri", "home_url", "login_url", "jwks_uri")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _url_or_none(value)

    @field_validator("minimum_acr")
    @classmethod
    def _acr(cls, value: str | None) -> str | None:
        return _on_the_ladder(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _scope_list(values)

    @field_validator("resource_servers")
    @classmethod
    def _audiences(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _audience_list(values)

    def changes(self) -> dict[str, Any]:
        """The fields the request names, JSON-ready (a named ``null`` clears an optional one)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


@dataclass(frozen=True)
class SecretInfo:
    """One valid secret of a client, as operators see it (never the secret)."""

    secret_id: str
    created_at: datetime


@dataclass(frozen=True)
class RegisteredClient:
    """One client as the registry holds it (what the OpenID Provider reads)."""

    client_id: str
    application: str
    names: dict[str, str]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    home_url: str
    login_url: str
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    resource_servers: tuple[str, ...]
    token_endpoint_auth_method: str
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    require_pkce: bool
    minimum_acr: str | None
    access_token_lifetime: int | None
    id_token_lifetime: int | None
    refresh_token_lifetime: int | None
    roles: tuple[dict[str, Any], ...]
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime
    secret_hashes: tuple[str, ...] = ()
    secrets: tuple[SecretInfo, ...] = field(default=())

    @property
    def name(self) -> str:
        """The name in English (where one name is shown to everyone, e.g. logs)."""
        return self.names.get("en") or self.client_id

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def confidential(self) -> bool:
        return self.token_endpoint_auth_method != "none"  # noqa: S105 - a method

    @property
    def uses_secret(self) -> bool:
        return self.token_endpoint_auth_method in SECRET_METHODS

    def describe(self) -> dict[str, Any]:
        """What operators see of it (API, CLI, portal): everything but secrets."""
        return {
            "client_id": self.client_id,
            "application": self.application,
            "names": dict(self.names),
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "backchannel_logout_uri": self.backchannel_logout_uri,
            "home_url": self.home_url,
            "login_url": self.login_url,
            "grant_types": list(self.grant_types),
            "scopes": list(self.scopes),
            "resource_servers": list(self.resource_servers),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "jwks": self.jwks,
            "jwks_uri": self.jwks_uri,
            "require_pkce": self.require_pkce,
            "minimum_acr": self.minimum_acr,
            "access_token_lifetime": self.access_token_lifetime,
            "id_token_lifetime": self.id_token_lifetime,
            "refresh_token_lifetime": self.refresh_token_lifetime,
            "roles": list(self.roles),
            "enabled": self.enabled,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "secrets": [
                {"secret_id": s.secret_id, "created_at": s.created_at.isoformat()}
                for s in self.secrets
            ],
        }
