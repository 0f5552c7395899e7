"""``private_key_jwt`` client authentication (RFC 7523 §2.2, OpenID Connect Core
§9) at ``/token``, ``/introspect`` and ``/revoke``.

The client signs a short-lived JWT with its private key; the edge verifies it
with the public keys the registry holds for the client (``jwks``) or fetches
from where it says they are (``jwks_uri``, cached five minutes, fetched again
for a key id it does not know yet, at most once a second). The checks, with joserfc:

- ``iss`` and ``sub`` are the client id; ``aud`` names this edge: its issuer
  identifier, its token endpoint or the endpoint called (RFC 7523 §3 says the
  token endpoint, recent profiles say the issuer: both are accepted);
- ``exp`` is present and at most :data:`MAX_LIFETIME` seconds ahead (an hour),
  ``jti`` present; a signature by an asymmetric algorithm of :data:`ALGORITHMS`;
- the ``jti`` is used once: it is remembered in PostgreSQL until the assertion
  expires, so that every edge instance refuses a replay (one ``INSERT … ON
  CONFLICT DO NOTHING``: the instance that inserts first wins).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_edge.models import client_assertion
from eproc_runtime.db import upsert

if TYPE_CHECKING:
    from eproc_edge.oauth import Client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "EdDSA"]
MAX_LIFETIME = 3600
"""Seconds an assertion may still have to live. openid-client signs for 60 s;
authlib's client for 3600 s, the longest accepted. Its jti is remembered as long."""
LEEWAY = 30
_JWKS_TTL = 300.0
_JWKS_MIN_REFETCH = 1.0  # per URI: a flood of unknown key ids fetches once a second
_JWKS_MAX_BYTES = 64 * 1024


class AssertionRefused(Exception):
    """The assertion does not authenticate its client (``invalid_client``)."""


def has_assertion(form: Mapping[str, str]) -> bool:
    return "client_assertion" in form or "client_assertion_type" in form


class AssertionVerifier:
    """Verifies client assertions for one edge; ``clients`` looks a client up by id."""

    def __init__(
        self,
        clients: Callable[[str], Client | None],
        *,
        issuer: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clients = clients
        self._issuer = issuer
        self._transport = transport
        # jwks_uri -> (key set, fetched at (monotonic))
        self._fetched: dict[str, tuple[KeySet, float]] = {}

    async def authenticate(
        self,
        form: Mapping[str, str],
        *,
        endpoint: str,
        sessions: async_sessionmaker[AsyncSession],
    ) -> Client:
        """The client ``form``'s assertion authenticates, called at ``endpoint``
        (its path, e.g. ``/token``); else :class:`AssertionRefused`."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise AssertionRefused(f"client_assertion_type must be {ASSERTION_TYPE}.")
        assertion = form.get("client_assertion", "")
        client_id = self._claimed_client(assertion)
        if form.get("client_id") not in (None, client_id):
            raise AssertionRefused("client_id is not the assertion's subject.")
        client = self._clients(client_id)
        if client is None or client.config.token_endpoint_auth_method != "private_key_jwt":  # noqa: S105 - a method
            raise AssertionRefused("The client does not authenticate with private_key_jwt.")
        claims = await self._verified(client, assertion, endpoint)
        await self._use_once(sessions, client_id, str(claims["jti"]), int(claims["exp"]))
        return client

    @staticmethod
    def _claimed_client(assertion: str) -> str:
        # Which client's keys to verify with: the unverified "sub" (checked below).
        try:
            payload = json.loads(jws.extract_compact(assertion.encode()).payload)
        except (JoseError, ValueError, UnicodeDecodeError):
            raise AssertionRefused("client_assertion is not a signed JWT.") from None
        subject = payload.get("sub") if isinstance(payload, dict) else None
        if not isinstance(subject, str) or not subject:
            raise AssertionRefused("client_assertion names no subject.")
        return subject

    async def _verified(self, client: Client, assertion: str, endpoint: str) -> dict[str, Any]:
        keys = await self._keys(client, refetch=False)
        kid = jws.extract_compact(assertion.encode()).protected.get("kid")
        if kid is not None and all(k.kid != kid for k in keys):
            # A key the client published since its JWKS was fetched: fetch again.
            keys = await self._keys(client, refetch=True)
        try:
            decoded = jwt.decode(assertion, keys, algorithms=ALGORITHMS)
        except JoseError:
            raise AssertionRefused("The assertion's signature does not verify.") from None
        claims = dict(decoded.claims)
        client_id = client.client_id
        audiences = [self._issuer, f"{self._issuer}/token", f"{self._issuer}{endpoint}"]
        try:
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": client_id},
                sub={"essential": True, "value": client_id},
                aud={"essential": True, "values": audiences},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except JoseError as error:
            raise AssertionRefused(f"The assertion is not valid here: {error}") from None
        if not isinstance(claims["exp"], int) or claims["exp"] > time.time() + MAX_LIFETIME:
            raise AssertionRefused(f"The assertion must expire within {MAX_LIFETIME} s.")
        return claims

    async def _keys(self, client: Client, *, refetch: bool) -> KeySet:
        config = client.config
        if config.jwks is not None:
            return KeySet.import_key_set(cast(KeySetSerialization, config.jwks))
        uri = config.jwks_uri
        if not uri:
            raise AssertionRefused("The client has no keys registered.")
        cached = self._fetched.get(uri)
        now = time.monotonic()
        if cached is not None:
            age = now - cached[1]
            if age < _JWKS_TTL and (not refetch or age < _JWKS_MIN_REFETCH):
                return cached[0]
        try:
            async with httpx.AsyncClient(
                timeout=5, follow_redirects=False, transport=self._transport
            ) as http:
                response = await http.get(uri, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > _JWKS_MAX_BYTES:
                raise ValueError("JWKS too large")
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as error:
            if cached is not None:
                return cached[0]  # keep working on the last good set
            # Not told to the caller (what the edge can reach is no one's business).
            raise AssertionRefused("The client's jwks_uri cannot be read.") from error
        self._fetched[uri] = (keys, now)
        return keys

    @staticmethod
    async def _use_once(
        sessions: async_sessionmaker[AsyncSession], client_id: str, jti: str, exp: int
    ) -> None:
        if len(jti) > 255:
            raise AssertionRefused("The assertion's jti is too long.")
        async with sessions() as db, db.begin():
            statement = upsert(
                db,
                client_assertion,
                {
                    "client_id": client_id,
                    "jti": jti,
                    "expires_at": datetime.fromtimestamp(exp + LEEWAY, UTC),
                },
                keys=("client_id", "jti"),
            ).returning(client_assertion.c.jti)
            # What has expired is forgotten by the edge's sweep (eproc_edge.sweep).
            inserted = (await db.execute(statement)).first()
        if inserted is None:
            raise AssertionRefused("The assertion was used before (its jti is spent).")
