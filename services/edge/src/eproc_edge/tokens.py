"""Use cases of the token path (issue 16): the client-credentials and refresh
grants, introspection (RFC 7662), revocation (RFC 7009) and userinfo — only the
work the protocol needs.

- *Refresh*: the presented token is rotated by the group-committed statement of
  :mod:`eproc_edge.rotation` (checks, marks used, stores the successor, reads the
  session and the user's projection version: one round trip per batch); the
  claims come from the in-memory snapshot when its version is current. A token
  that does not rotate is looked at once more: a used or revoked one is reuse
  (someone holds a stolen copy), and its whole family is revoked.
- *Access tokens* are our own ES256 JWTs: introspection and userinfo verify the
  signature, then ask the :class:`~eproc_platform_sdk.RevocationList` fed by the
  edge's own ``sso.revocation.v1`` events; when that list is not known to be
  current they ask the database (:func:`is_revoked`).
- *Revocation* of an access token, a refresh-token family or a session records
  it, publishes ``TokensRevoked`` in the same transaction, and enters it in this
  instance's list at once (the other instances within the bus's delay; the
  applications' SDK too).

Errors are :class:`OAuthError` (RFC 6749 §5.2 codes); the entry point turns them
into responses.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.events import RevokedKind
from eproc_edge import repository, service
from eproc_edge.claims import ClaimsCache
from eproc_edge.oauth import Client, Principal, token_hash, user_claims
from eproc_edge.oauth.server import EdgeAuthorizationServer
from eproc_edge.repository import Rotation
from eproc_edge.rotation import RotationBatcher
from eproc_edge.settings import Settings
from eproc_platform_sdk.revocation import RevocationList, revocation_keys
from eproc_runtime.db import utc

# Scopes that speak of a user: never in a client-credentials token (issue 18).
USER_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True)
class OAuthError(Exception):
    """An error response of the token path (RFC 6749 §5.2, RFC 6750 §3.1)."""

    status: int
    error: str
    description: str


def _invalid_grant() -> OAuthError:
    return OAuthError(400, "invalid_grant", "The refresh token is invalid, used or revoked.")


@dataclass
class TokenService:
    """What the token path's use cases work with (one per edge process)."""

    settings: Settings
    server: EdgeAuthorizationServer
    cache: ClaimsCache
    sessions: async_sessionmaker[AsyncSession]
    rotations: RotationBatcher
    revocations: RevocationList
    nudge: Callable[[], None]
    """Wakes the outbox relay after a commit that wrote events."""
    _jwks: tuple[Any, bytes] | None = None

    # --- grants

    async def keys_current(self) -> None:
        """Reload (and rotate when due) the signing keys every 30 s."""
        if self.server.keyring.due:
            async with self.sessions() as db, db.begin():
                await self.server.keyring.refresh(db)

    def jwks_document(self) -> bytes:
        """The JWKS as sent, encoded once per key set."""
        material = self.server.keyring.material
        if self._jwks is None or self._jwks[0] is not material:
            self._jwks = (material, json.dumps(self.server.keyring.jwks()).encode())
        return self._jwks[1]

    async def client_credentials(self, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        """An access token for the client itself: only the scopes it may have without a user."""
        await self.keys_current()
        if not client.confidential or not client.check_grant_type("client_credentials"):
            raise OAuthError(400, "unauthorized_client", "The client may not use this grant.")
        allowed = [s for s in client.config.scopes if s not in USER_SCOPES]
        requested = form.get("scope")
        scopes = allowed if requested is None else [s for s in requested.split() if s in allowed]
        scope = " ".join(scopes)
        body: dict[str, Any] = {
            "access_token": self.server.sign_access_token(client, None, scope),
            "token_type": "Bearer",
            "expires_in": self.server.access_token_lifetime(client),
        }
        if scope:
            body["scope"] = scope
        return body

    async def refresh(self, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        """Rotate the refresh token; the new access and refresh tokens."""
        if not client.check_grant_type("refresh_token"):
            raise OAuthError(400, "unauthorized_client", "The client may not use this grant.")
        presented = form.get("refresh_token")
        if not presented:
            raise OAuthError(400, "invalid_request", "Missing 'refresh_token' parameter.")
        old_hash = token_hash(presented)
        requested = form.get("scope")
        if requested is not None:
            await self._check_narrower_scope(old_hash, requested)
        await self.keys_current()
        successor = secrets.token_urlsafe(48)
        row = await self.rotations.rotate(
            Rotation(
                old_hash,
                client.client_id,
                token_hash(successor),
                client.config.refresh_token_lifetime,
            )
        )
        if row is None:
            await self._refused(old_hash)
            raise _invalid_grant()
        principal = await self._principal(row, client)
        scope = requested if requested is not None else str(row.scope)
        return {
            "access_token": self.server.sign_access_token(
                client, principal, scope, grant_id=row.family_id
            ),
            "token_type": "Bearer",
            "expires_in": self.server.access_token_lifetime(client),
            "refresh_token": successor,
            "scope": scope,
        }

    async def _check_narrower_scope(self, old_hash: str, requested: str) -> None:
        # RFC 6749 §6: a refresh may ask for less, never more (the rare case:
        # one more read before the rotation).
        async with self.sessions() as db:
            row = await repository.refresh_by_hash(db, old_hash)
        if row is None:
            raise _invalid_grant()
        if not set(requested.split()) <= set(str(row.scope).split()):
            raise OAuthError(400, "invalid_scope", "The scope is wider than the grant's.")

    async def _refused(self, old_hash: str) -> None:
        async with self.sessions() as db, db.begin():
            row = await repository.refresh_by_hash(db, old_hash)
            if row is not None and (row.used_at is not None or row.revoked_at is not None):
                # Reuse of a rotated token: someone holds a stolen copy.
                await service.revoke_grant(
                    db, self.revocations, self.settings, row.family_id, row.user_id
                )
        self._nudge()

    async def _principal(self, row: Any, client: Client) -> Principal:
        async with self.sessions() as db:
            snapshot = await self.cache.snapshot(db, row.user_id, int(row.projection_version))
        preferred = row.client_organisation_id if row.client_known else row.session_organisation_id
        organisation = snapshot.starting_organisation(preferred)
        claims = service.claims_for(
            snapshot,
            client,
            organisation,
            platform_operator=bool(row.platform_operator),
            acr=str(row.acr),
        )
        return Principal(
            user_id=row.user_id,
            session_id=str(row.session_id),
            acr=str(row.acr),
            auth_time=int(utc(row.auth_time).timestamp()),
            claims=claims,
        )

    # --- access tokens: introspection, revocation, userinfo

    async def active_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of one of our access tokens while valid and not revoked."""
        await self.keys_current()
        claims = self.server.verify_access_token(token)
        if claims is None or await self.is_revoked(claims):
            return None
        return claims

    async def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """The revocation list's answer, or the database's while the list is not current."""
        if self.revocations.is_revoked(claims):
            return True
        if self.revocations.is_current:
            return False
        async with self.sessions() as db:
            return await repository.revoked_any(db, revocation_keys(claims))

    async def introspect(self, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 7662: any confidential client may introspect access tokens (it is a
        resource server); a refresh token only by the client it was issued to."""
        value = form.get("token")
        if not value:
            raise OAuthError(400, "invalid_request", "Missing 'token' parameter.")
        if value.count(".") == 2:
            claims = await self.active_claims(value)
            if claims is None:
                return {"active": False}
            return {"active": True, "token_type": "access_token", **claims}
        async with self.sessions() as db:
            row = await repository.refresh_by_hash(db, token_hash(value))
        if (
            row is None
            or row.client_id != client.client_id
            or row.used_at is not None
            or row.revoked_at is not None
            or utc(row.expires_at) <= datetime.now(UTC)
        ):
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": row.client_id,
            "sub": str(row.user_id),
            "scope": row.scope,
            "sid": row.session_id,
            "exp": int(utc(row.expires_at).timestamp()),
            "iat": int(utc(row.issued_at).timestamp()),
            "iss": self.settings.issuer,
        }

    async def revoke(self, client: Client, form: Mapping[str, str]) -> None:
        """RFC 7009: an access token is refused from now on, everywhere; a refresh
        token takes its whole family (and that family's access tokens) with it."""
        value = form.get("token")
        if not value:
            raise OAuthError(400, "invalid_request", "Missing 'token' parameter.")
        hint = form.get("token_type_hint")
        if hint and hint not in ("access_token", "refresh_token"):
            raise OAuthError(400, "unsupported_token_type", f"Unknown token type {hint!r}.")
        if value.count(".") == 2:
            await self.keys_current()
            claims = self.server.verify_access_token(value)
            if claims is None:
                return  # invalid or expired: nothing to revoke (§2.2)
            if claims.get("client_id") != client.client_id:
                raise OAuthError(400, "invalid_grant", "The token was issued to another client.")
            until = service.revocation_until(self.settings, int(claims["exp"]))
            user = UUID(claims["sub"]) if claims.get("token_use") == "user" else None
            async with self.sessions() as db, db.begin():
                await service.revoke(
                    db, self.revocations, RevokedKind.TOKEN, claims["jti"], until, user
                )
            self._nudge()
            return
        async with self.sessions() as db, db.begin():
            row = await repository.refresh_by_hash(db, token_hash(value))
            if row is None:
                return
            if row.client_id != client.client_id:
                raise OAuthError(400, "invalid_grant", "The token was issued to another client.")
            await service.revoke_grant(
                db, self.revocations, self.settings, row.family_id, row.user_id
            )
        self._nudge()

    async def userinfo(self, token: str) -> dict[str, Any]:
        """OIDC userinfo: the claims the token's scope releases, as they are now."""
        claims = await self.active_claims(token)
        if claims is None or claims.get("token_use") != "user":
            raise OAuthError(401, "invalid_token", "A valid user access token is required.")
        async with self.sessions() as db:
            principal = await service.principal_of(
                db, self.cache, self.server.clients, claims["sid"], claims["client_id"]
            )
        if principal is None:
            raise OAuthError(401, "invalid_token", "The session has ended.")
        return user_claims(principal, str(claims.get("scope", "")))

    def _nudge(self) -> None:
        self.nudge()
