"""Verification of the eID gateway's ID tokens (registration, R-REG-1).

The gateway signs an ID token (ES256 or RS256) whose ``sub`` is a keyed hash of
the national number; this service never sees the number itself (R-NF-2). Keys
come from configuration (a static key set) or from the gateway's JWKS URL,
cached and refetched when an unknown ``kid`` shows up (key rotation).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from eproc_identity.settings import Settings


class InvalidIdToken(Exception):
    """The ID token is forged, expired, or not from our eID gateway."""


class GatewayKeysUnavailable(InvalidIdToken):
    """The gateway's keys could not be fetched: the token cannot be checked now."""


@dataclass(frozen=True)
class EidIdentity:
    """What a verified ID token says about the card holder."""

    subject: str
    given_name: str
    family_name: str
    acr: str


class EidTokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySet | None = None,
        jwks_url: str | None = None,
        algorithms: list[str] | None = None,
        accepted_acr: list[str] | None = None,
        leeway: int = 30,
        jwks_refresh_interval: float = 300.0,
    ) -> None:
        if keys is None and jwks_url is None:
            raise ValueError("give the gateway's keys or its JWKS URL")
        self._keys = keys
        self._static = keys is not None
        self._jwks_url = jwks_url
        self._algorithms = algorithms or ["ES256", "RS256"]
        self._accepted_acr = accepted_acr or []
        self._fetched_at = 0.0
        self._refresh_interval = jwks_refresh_interval
        if not audience:
            raise ValueError("give the audience: the client id identity's tokens are issued to")
        claims: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            # Issued to the portal (its client id at the gateway), not to another relying
            # party of the gateway such as the edge (R-SEC-3).
            "aud": {"essential": True, "value": audience},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "given_name": {"essential": True},
            "family_name": {"essential": True},
            "acr": {"essential": True},
        }
        self._registry = jwt.JWTClaimsRegistry(leeway=leeway, **claims)

    @classmethod
    def from_settings(cls, settings: Settings) -> EidTokenVerifier:
        keys = KeySet.import_key_set(json.loads(settings.eid_jwks)) if settings.eid_jwks else None
        return cls(
            issuer=settings.eid_issuer,
            audience=settings.eid_audience,
            keys=keys,
            jwks_url=None if keys is not None else settings.eid_jwks_url,
            algorithms=settings.eid_algorithms,
            accepted_acr=settings.eid_accepted_acr,
            leeway=settings.eid_token_leeway,
        )

    async def _key_set(self, *, force: bool = False) -> KeySet:
        if self._static:
            assert self._keys is not None
            return self._keys
        stale = time.monotonic() - self._fetched_at > self._refresh_interval
        if self._keys is None or force or stale:
            assert self._jwks_url is not None
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._jwks_url)
                    response.raise_for_status()
            except httpx.HTTPError as exc:
                raise GatewayKeysUnavailable(
                    f"the eID gateway's keys are unavailable: {exc}"
                ) from exc
            self._keys = KeySet.import_key_set(response.json())
            self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> EidIdentity:
        """The card holder's identity, or :class:`InvalidIdToken`."""
        try:
            try:
                decoded = jwt.decode(token, await self._key_set(), algorithms=self._algorithms)
            except (ValueError, JoseError):
                if self._static:
                    raise
                # Perhaps the gateway rotated its keys since we last looked.
                decoded = jwt.decode(
                    token, await self._key_set(force=True), algorithms=self._algorithms
                )
            self._registry.validate(decoded.claims)
        except (ValueError, JoseError) as exc:
            raise InvalidIdToken(str(exc) or type(exc).__name__) from exc
        claims = decoded.claims
        acr = str(claims["acr"])
        if self._accepted_acr and acr not in self._accepted_acr:
            raise InvalidIdToken(f"assurance level {acr!r} is not accepted")
        names = (str(claims["given_name"]).strip(), str(claims["family_name"]).strip())
        if not all(names):
            raise InvalidIdToken("the token carries no name")
        return EidIdentity(
            subject=str(claims["sub"]), given_name=names[0], family_name=names[1], acr=acr
        )
