"""eID login brokered to an upstream OpenID Provider (R-LOGIN-1): the eID gateway,
or the federal authentication service by configuration.

The edge is an ordinary relying party of the upstream (authlib's client,
authorization code + PKCE); it checks the upstream's id_token (issuer,
audience, nonce, signature against the upstream JWKS) and maps its ``sub``, a
keyed hash of the national number, to our user through identity.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from eproc_contracts import assurance
from eproc_edge.settings import Settings

_METADATA_TTL = 300.0


class UpstreamError(Exception):
    """The upstream's answer could not be trusted."""


class UpstreamProvider:
    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """``transport`` reaches a provider in the same process (tests, embedded mode)."""
        self.settings = settings
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._loaded_at = 0.0

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.issuer}/login/eid/callback"

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.upstream_client_id,
            client_secret=self.settings.upstream_client_secret,
            scope="openid profile",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            transport=self._transport,
        )

    async def metadata(self, *, force: bool = False) -> dict[str, Any]:
        if self._metadata is None or force or time.monotonic() - self._loaded_at > _METADATA_TTL:
            url = self.settings.upstream_discovery_url or (
                self.settings.upstream_issuer.rstrip("/") + "/.well-known/openid-configuration"
            )
            async with httpx.AsyncClient(timeout=5, transport=self._transport) as http:
                self._metadata = (await http.get(url)).raise_for_status().json()
                jwks = (await http.get(self._metadata["jwks_uri"])).raise_for_status().json()
            self._keys = KeySet.import_key_set(jwks)
            self._loaded_at = time.monotonic()
        return self._metadata

    async def authorization_url(
        self, ui_locales: str | None = None, *, acr_values: str | None = None, fresh: bool = False
    ) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and the state to keep until it comes back;
        ``ui_locales``: the language the eID page should speak; ``acr_values``:
        the level asked for (a step-up); ``fresh``: no answer from the upstream's
        own SSO session (``prompt=login``)."""
        extra = {
            k: v
            for k, v in (
                ("ui_locales", ui_locales),
                ("acr_values", acr_values),
                ("prompt", "login" if fresh else None),
            )
            if v
        }
        metadata = await self.metadata()
        attempt = {
            "state": secrets.token_urlsafe(24),
            "nonce": secrets.token_urlsafe(24),
            "code_verifier": secrets.token_urlsafe(48),
        }
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=attempt["state"],
                nonce=attempt["nonce"],
                code_verifier=attempt["code_verifier"],
                **extra,
            )
        return url, attempt

    async def login(self, callback_url: str, *, nonce: str, code_verifier: str) -> UpstreamLogin:
        """Exchange the code; return who the verified id_token names, and how."""
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    authorization_response=callback_url,
                    code_verifier=code_verifier,
                )
        except (OAuthError, httpx.HTTPError) as exc:
            raise UpstreamError(f"token request failed: {exc}") from exc
        assert self._keys is not None
        try:
            decoded = jwt.decode(token["id_token"], self._keys)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": metadata["issuer"]},
                aud={"essential": True, "value": self.settings.upstream_client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (KeyError, ValueError, JoseError) as exc:
            raise UpstreamError(str(exc) or type(exc).__name__) from exc
        claims = decoded.claims
        # The level as the upstream states it (the federal ranks); one that
        # states none is the eID provider it is configured as.
        acr = str(claims.get("acr") or assurance.EID)
        if assurance.level(acr) is None:
            raise UpstreamError(f"unknown authentication level {acr!r}")
        auth_time = claims.get("auth_time")
        return UpstreamLogin(
            subject=str(claims["sub"]),
            acr=acr,
            auth_time=int(auth_time) if isinstance(auth_time, int) else int(time.time()),
        )


@dataclass(frozen=True)
class UpstreamLogin:
    """A verified upstream login: the keyed ``sub``, its level and time."""

    subject: str
    acr: str
    auth_time: int
