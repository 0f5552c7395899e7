"""Access-token verification against the edge's JWKS.

The edge signs access tokens with ES256 (``typ: at+jwt``); its public keys are
at ``<issuer>/jwks``. :class:`TokenVerifier` fetches that key set, caches it for
``jwks_max_age`` seconds, and refetches it when a token names a key it does not
know (the edge rotated its keys) — at most once per ``min_refetch_interval``
seconds, so a flood of forged tokens cannot turn into a flood of requests to
the edge. It checks, in this order: the format and algorithm, the key, the
signature, the issuer, the audience (the application's own ``client_id``), and
the validity period; each failure is its own :mod:`eproc_access_tokens.errors`
class.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID

import httpx
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey, KeySet

from eproc_access_tokens.errors import (
    EdgeUnavailable,
    ExpiredToken,
    InvalidSignature,
    MalformedToken,
    NotYetValid,
    RevokedToken,
    StaleClaims,
    UnknownKey,
    UserRequired,
    WrongAudience,
    WrongIssuer,
)

ALGORITHM = "ES256"


class Revocations(Protocol):
    """What the verifier asks about revocations (``eproc_platform_sdk.RevocationList``)."""

    def is_revoked(self, claims: Mapping[str, Any]) -> bool: ...

    def is_stale(self, claims: Mapping[str, Any]) -> bool: ...


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Organisation:
    """An organisation as the token names it."""

    id: UUID
    name: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who calls the application, as a verified access token says.

    ``kind`` is ``"user"`` for a person (``user_id`` set) and ``"client"`` for
    another application's back end using client credentials. ``roles`` are the
    caller's roles *for this application* in the active ``organisation`` only.
    Authorise actions against your own data too: a token says who calls, not
    what exists in your database.
    """

    kind: Literal["user", "client"]
    subject: str
    client_id: str
    user_id: UUID | None = None
    name: str | None = None
    username: str | None = None
    email: str | None = None
    organisation: Organisation | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    default_organisation_id: UUID | None = None
    organisation_choice_required: bool = False
    scopes: frozenset[str] = field(default_factory=frozenset)
    expires_at: int = 0
    platform_operator: bool = False
    """Platform staff (the ``platform_operator`` claim); the services check it against
    their own records before acting on it."""
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, role: str) -> bool:
        """Whether the caller holds ``role`` for this application in the active organisation."""
        return role in self.roles

    @property
    def active_organisation(self) -> UUID | None:
        """The id of the organisation the caller acts for, if one is chosen."""
        return self.organisation.id if self.organisation is not None else None

    def require_user(self) -> UUID:
        """The person's user id; raises :class:`UserRequired` for an application's token."""
        if self.user_id is None:
            raise UserRequired("only a person may do this, not an application")
        return self.user_id


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """Build a :class:`Caller` from verified claims (raises :class:`MalformedToken`)."""
    try:
        subject = str(claims["sub"])
        client_id = str(claims.get("client_id") or claims.get("azp") or "")
        is_client = claims.get("token_use") == "client" or subject == client_id
        org_id = claims.get("org_id")
        default = claims.get("default_org_id")
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            raise ValueError("roles is not a list")
        return Caller(
            kind="client" if is_client else "user",
            subject=subject,
            client_id=client_id,
            user_id=None if is_client else UUID(subject),
            name=_optional_str(claims.get("name")),
            username=_optional_str(claims.get("preferred_username")),
            email=_optional_str(claims.get("email")),
            organisation=(
                Organisation(UUID(str(org_id)), _optional_str(claims.get("org_name")))
                if org_id
                else None
            ),
            roles=frozenset(str(r) for r in roles),
            default_organisation_id=UUID(str(default)) if default else None,
            organisation_choice_required=bool(claims.get("organisation_choice_required")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            expires_at=int(claims.get("exp", 0)),
            platform_operator=bool(claims.get("platform_operator", False)),
            claims=dict(claims),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise MalformedToken(f"malformed claims: {exc}") from exc


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class TokenVerifier:
    """Verifies the edge's access tokens for one application (or for the services).

    ``issuer`` is the edge's issuer URL; ``client_id`` the application's client
    id, which must be in the token's ``aud`` (a token the edge issued to
    another application is refused with :class:`WrongAudience`); the services
    pass their shared audience (``eproc``). Give either
    ``jwks_url`` (default ``<issuer>/jwks``) or a static ``keys`` set. ``clock``
    returns the current Unix time (tests and replays may pass their own).

    Use :meth:`verify` from async code and :meth:`verify_sync` from threads
    (WSGI); both share the key cache. ``revocations`` (the SDK's
    ``RevocationList``, fed by the edge's ``sso.revocation.v1``) makes a token
    the edge revoked fail with :class:`RevokedToken`, and one whose claims have
    changed since with :class:`StaleClaims` (refresh it).
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        jwks_url: str | None = None,
        keys: KeySet | None = None,
        jwks_max_age: float = 300.0,
        min_refetch_interval: float = 30.0,
        leeway: int = 30,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        revocations: Revocations | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.revocations = revocations
        self.client_id = client_id
        self._static = keys is not None
        self.jwks_url = None if keys is not None else (jwks_url or f"{self.issuer}/jwks")
        self._keys: KeySet | None = keys
        self._fetched_at = float("-inf")
        self._max_age = jwks_max_age
        self._min_refetch = min_refetch_interval
        self._leeway = leeway
        self._timeout = timeout
        self._clock = clock
        self._async_lock = asyncio.Lock()
        self._thread_lock = threading.Lock()
        self.jwks_fetches = 0
        """How many times the JWKS was fetched (for metrics and tests)."""

    # --- the key set ------------------------------------------------------------------

    def _due(self, *, unknown_kid: bool) -> bool:
        if self._static:
            return False
        age = time.monotonic() - self._fetched_at
        if self._keys is None or age > self._max_age:
            return True
        return unknown_kid and age >= self._min_refetch

    def _install(self, document: Any) -> None:
        try:
            self._keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise EdgeUnavailable(f"the edge's JWKS is unreadable: {exc}") from exc
        self._fetched_at = time.monotonic()
        self.jwks_fetches += 1

    def _fetch_failed(self, exc: Exception) -> None:
        if self._keys is None:
            raise EdgeUnavailable(f"cannot fetch the edge's JWKS: {exc}") from exc
        # Keep serving with the keys we have; try again after min_refetch_interval.
        log.warning("JWKS refresh failed, keeping cached keys: %s", exc)
        self._fetched_at = time.monotonic() - self._max_age + self._min_refetch

    async def _key_set(self, *, unknown_kid: bool = False) -> KeySet:
        if self._due(unknown_kid=unknown_kid):
            async with self._async_lock:
                if self._due(unknown_kid=unknown_kid):
                    assert self.jwks_url is not None
                    try:
                        async with httpx.AsyncClient(timeout=self._timeout) as client:
                            response = await client.get(self.jwks_url)
                            response.raise_for_status()
                        self._install(response.json())
                    except (httpx.HTTPError, ValueError) as exc:
                        self._fetch_failed(exc)
        assert self._keys is not None
        return self._keys

    def _key_set_sync(self, *, unknown_kid: bool = False) -> KeySet:
        if self._due(unknown_kid=unknown_kid):
            with self._thread_lock:
                if self._due(unknown_kid=unknown_kid):
                    assert self.jwks_url is not None
                    try:
                        with httpx.Client(timeout=self._timeout) as client:
                            response = client.get(self.jwks_url)
                            response.raise_for_status()
                        self._install(response.json())
                    except (httpx.HTTPError, ValueError) as exc:
                        self._fetch_failed(exc)
        assert self._keys is not None
        return self._keys

    # --- verification -----------------------------------------------------------------

    async def verify(self, token: str) -> Caller:
        """The caller the token names; raises a :class:`~eproc_access_tokens.errors.TokenError`."""
        kid = _key_id(token)
        key = _find(await self._key_set(), kid)
        if key is None:
            # Perhaps the edge rotated its keys since we last looked.
            key = _find(await self._key_set(unknown_kid=True), kid)
        return self._check(token, key, kid)

    def verify_sync(self, token: str) -> Caller:
        """:meth:`verify` for synchronous code (WSGI)."""
        kid = _key_id(token)
        key = _find(self._key_set_sync(), kid)
        if key is None:
            key = _find(self._key_set_sync(unknown_kid=True), kid)
        return self._check(token, key, kid)

    def _check(self, token: str, key: ECKey | None, kid: str) -> Caller:
        if key is None:
            raise UnknownKey(f"no published key has kid {kid!r}")
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
        except BadSignatureError as exc:
            raise InvalidSignature("the signature does not verify") from exc
        except (JoseError, ValueError) as exc:
            raise MalformedToken(str(exc) or type(exc).__name__) from exc
        claims = decoded.claims
        if claims.get("iss") != self.issuer:
            raise WrongIssuer(f"issuer {claims.get('iss')!r} is not {self.issuer!r}")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise WrongAudience(f"token issued for {audiences!r}, not {self.client_id!r}")
        now = self._clock()
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise MalformedToken("the token has no exp")
        if now > exp + self._leeway:
            raise ExpiredToken(f"expired {int(now - exp)} s ago")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if isinstance(value, int | float) and value > now + self._leeway:
                raise NotYetValid(f"{name} is in the future")
        if self.revocations is not None:
            if self.revocations.is_revoked(claims):
                raise RevokedToken("the edge revoked this token")
            if self.revocations.is_stale(claims):
                raise StaleClaims("the user's memberships changed since the token was issued")
        return caller_from_claims(claims)


def _key_id(token: str) -> str:
    try:
        headers = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise MalformedToken("not a compact JWS") from exc
    if headers.get("alg") != ALGORITHM:
        raise MalformedToken(f"algorithm {headers.get('alg')!r} is not {ALGORITHM}")
    kid = headers.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("the token names no key (kid)")
    return kid


def _find(keys: KeySet, kid: str) -> ECKey | None:
    for key in keys.keys:
        if key.kid == kid and isinstance(key, ECKey):
            return key
    return None
