"""Use cases of the edge: sessions, the active organisation, application switching
(R-SSO-2, R-SSO-3), the top bar, and the claims a client's token carries (R-SSO-4)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import (
    ClaimsChanged,
    DefaultOrganisationChanged,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    RevokedKind,
    SessionEnded,
    SessionStarted,
    TokensRevoked,
)
from eproc_edge import claims as projection
from eproc_edge import repository
from eproc_edge.claims import ClaimsCache, UserSnapshot
from eproc_edge.identity_port import Authenticated
from eproc_edge.models import messaging_tables
from eproc_edge.oauth import Client, CodeRecord, Principal, Write, token_hash
from eproc_edge.settings import Settings
from eproc_platform_sdk.revocation import RevocationList
from eproc_runtime.db import utc
from eproc_runtime.errors import Forbidden, Unauthenticated
from eproc_runtime.outbox import Outbox

outbox = Outbox(messaging_tables.outbox, producer="edge")


# --- sessions


async def start_session(
    db: AsyncSession, settings: Settings, user: Authenticated, *, acr: str
) -> tuple[str, str]:
    """A new SSO session for ``user``; returns (session id, cookie value)."""
    cookie = secrets.token_urlsafe(32)
    session_id = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    await repository.insert_session(
        db,
        {
            "id": session_id,
            "cookie_hash": token_hash(cookie),
            "user_id": user.user_id,
            "acr": acr,
            "platform_operator": user.platform_operator,
            "active_organisation_id": None,
            "auth_time": now,
            "expires_at": now + timedelta(seconds=settings.session_lifetime),
        },
    )
    await outbox.add(db, SessionStarted(session_id=session_id, user_id=user.user_id, acr=acr))
    return session_id, cookie


async def reauthenticate(db: AsyncSession, session_row: Any, *, acr: str) -> str:
    """The user of ``session_row`` logged in again (a step-up, or a fresh login an
    application asked for): the session keeps its id, applications and
    organisation, and takes the new login's level and time; its cookie is
    replaced (a new authentication, a new cookie). Returns the cookie value."""
    cookie = secrets.token_urlsafe(32)
    await repository.reauthenticate_session(
        db, session_row.id, cookie_hash=token_hash(cookie), acr=acr, auth_time=datetime.now(UTC)
    )
    await outbox.add(
        db, SessionStarted(session_id=session_row.id, user_id=session_row.user_id, acr=acr)
    )
    return cookie


def is_live(session_row: Any) -> bool:
    """Not ended, not expired."""
    return session_row.ended_at is None and utc(session_row.expires_at) > datetime.now(UTC)


async def session_from_cookie(db: AsyncSession, cookie: str | None) -> Any | None:
    if not cookie:
        return None
    return await repository.live_session_by_cookie(db, token_hash(cookie))


async def end_session(
    db: AsyncSession, revocations: RevocationList, settings: Settings, session_id: str
) -> tuple[UUID | None, list[str]]:
    """End the session, every refresh token issued in it and every access token
    (revoked at once on every edge and in the applications); returns its user
    and the clients that signed in through it."""
    row = await repository.session_by_id(db, session_id)
    if row is None or row.ended_at is not None:
        return None, []
    clients = await repository.end_session(db, session_id)
    await outbox.add(db, SessionEnded(session_id=session_id, user_id=row.user_id))
    await revoke(
        db, revocations, RevokedKind.SESSION, session_id, revocation_until(settings), row.user_id
    )
    return row.user_id, clients


async def password_changed(
    db: AsyncSession,
    revocations: RevocationList,
    settings: Settings,
    user_id: UUID,
    kept_session_id: str | None,
) -> list[tuple[str, list[str]]]:
    """The user's password changed (R-PWD-1): every other live session of the user
    ends with its refresh and access tokens, as at a logout (a thief who logged in
    with the old password is out); ``kept_session_id``, the session the user
    changed it in, stays. Returns the sessions ended, each with its clients."""
    ended = []
    for session_id in await repository.live_session_ids(db, user_id):
        if session_id != kept_session_id:
            _, clients = await end_session(db, revocations, settings, session_id)
            ended.append((session_id, clients))
    return ended


async def platform_operator_changed(db: AsyncSession, user_id: UUID, operator: bool) -> None:
    """Identity's record changed: the user's live sessions follow it, so the next
    token (a refresh included) carries it, not the value read at login; the
    applications learn that the tokens they hold are stale."""
    await repository.set_platform_operator(db, user_id, operator)
    await repository.bump_projection_version(db, user_id)
    await claims_changed(db, user_id)


async def membership_changed(
    db: AsyncSession,
    event: MembershipGranted | MembershipRolesChanged | MembershipRevoked,
    occurred_at: datetime,
) -> None:
    """A membership event into the claims projection (R-SSO-4); when it changed
    something, the applications hear that the user's tokens are stale."""
    if await projection.membership_changed(db, event, occurred_at):
        await claims_changed(db, event.user_id)


async def default_organisation_changed(db: AsyncSession, event: DefaultOrganisationChanged) -> None:
    if await projection.default_organisation_changed(db, event):
        await claims_changed(db, event.user_id)


async def claims_changed(db: AsyncSession, user_id: UUID) -> None:
    """Publish, with the change, the user's new claims version (issue 19 point 7):
    every application holding an older token of the user refreshes it, so an open
    application stops carrying old roles within seconds, not at the token's expiry."""
    version = await repository.projection_version_of(db, user_id)
    await outbox.add(db, ClaimsChanged(user_id=user_id, claims_version=version))


# --- revocation (RFC 7009)

# Verifiers allow 30 s of clock skew; a revocation outlives its tokens by more.
_REVOCATION_MARGIN = 60


def revocation_until(settings: Settings, expires_at: int | None = None) -> datetime:
    """When every access token it covers has expired (issued up to now, or
    expiring at ``expires_at``), plus the skew margin."""
    if expires_at is None:
        expires_at = int(datetime.now(UTC).timestamp()) + settings.access_token_lifetime
    return datetime.fromtimestamp(expires_at + _REVOCATION_MARGIN, UTC)


async def revoke(
    db: AsyncSession,
    revocations: RevocationList,
    kind: RevokedKind,
    identifier: str,
    until: datetime,
    user_id: UUID | None,
) -> None:
    """Refuse every access token ``kind``/``identifier`` covers until ``until``:
    recorded and published in the caller's transaction, and known to this
    instance at once (before the commit: a failed commit errs on refusing)."""
    if await repository.record_revocation(db, kind.value, identifier, until=until):
        await outbox.add(db, TokensRevoked(kind=kind, id=identifier, until=until, user_id=user_id))
    revocations.revoke(kind.value, identifier, until.timestamp())


async def revoke_grant(
    db: AsyncSession,
    revocations: RevocationList,
    settings: Settings,
    family_id: str,
    user_id: UUID | None,
) -> None:
    """Revoke a refresh-token family and every access token issued under it."""
    await repository.revoke_family(db, family_id)
    await revoke(db, revocations, RevokedKind.GRANT, family_id, revocation_until(settings), user_id)


# --- authorization codes


async def redeem_code(
    db: AsyncSession,
    cache: ClaimsCache,
    clients: dict[str, Client],
    revocations: RevocationList,
    settings: Settings,
    code: str,
) -> tuple[CodeRecord | None, Principal | None]:
    """The stored code (locked) and the user it was issued for. A code presented
    again is refused, and what it produced is revoked (RFC 6749 §4.1.2)."""
    row = await repository.code_for_update(db, token_hash(code))
    if row is None:
        return None, None
    if row.used_at is not None:
        if row.family_id:
            await revoke_grant(db, revocations, settings, row.family_id, row.user_id)
        return None, None
    return CodeRecord(row), await principal_of(db, cache, clients, row.session_id, row.client_id)


# --- claims


async def client_organisation(
    db: AsyncSession, session_row: Any, client: Client, snapshot: UserSnapshot
) -> tuple[UUID | None, bool]:
    """The active organisation of ``client`` in this session, and whether the
    client is new to the session (then it starts at the session's organisation,
    else the default one: R-SSO-2)."""
    found, organisation = await repository.client_organisation(db, session_row.id, client.client_id)
    preferred = organisation if found else session_row.active_organisation_id
    return snapshot.starting_organisation(preferred), not found


def claims_for(
    snapshot: UserSnapshot,
    client: Client,
    organisation_id: UUID | None,
    *,
    platform_operator: bool,
    acr: str,
) -> dict[str, Any]:
    """What a token for ``client`` says about the user: only the active
    organisation, and only the roles for the client's application there."""
    return {
        "name": snapshot.name,
        "preferred_username": snapshot.username or None,
        "given_name": snapshot.given_name,
        "family_name": snapshot.family_name,
        "email": snapshot.email,
        "locale": snapshot.language,
        "org_id": str(organisation_id) if organisation_id else None,
        "org_name": snapshot.organisation_name(organisation_id),
        "roles": snapshot.roles_in(organisation_id, client.application),
        "default_org_id": (
            str(snapshot.default_organisation_id) if snapshot.default_organisation_id else None
        ),
        "platform_operator": platform_operator,
        # R-LOGIN-4: a user without any organisation is offered the first-login
        # choice by the portal.
        "organisation_choice_required": not snapshot.memberships,
        "acr": acr,
        # Below the version of the edge's latest ClaimsChanged for the user: stale.
        "claims_version": snapshot.version,
    }


async def principal_for(
    db: AsyncSession, cache: ClaimsCache, session_row: Any, client: Client
) -> tuple[Principal, bool]:
    """The principal for a token of ``client`` in this session; the flag says the
    client's organisation must still be recorded for the session."""
    snapshot = await cache.get(db, session_row.user_id)
    organisation, new = await client_organisation(db, session_row, client, snapshot)
    claims = claims_for(
        snapshot,
        client,
        organisation,
        platform_operator=session_row.platform_operator,
        acr=session_row.acr,
    )
    auth_time = utc(session_row.auth_time)
    principal = Principal(
        user_id=session_row.user_id,
        session_id=session_row.id,
        acr=session_row.acr,
        auth_time=int(auth_time.timestamp()),
        claims=claims,
    )
    return principal, new


def remember_client_organisation(session_id: str, client: Client, principal: Principal) -> Write:
    """The write that records, for the SSO session, the organisation ``principal``
    names for ``client`` (queued on the exchange: it runs after authlib answered)."""
    org = principal.claims["org_id"]

    async def write(db: AsyncSession) -> None:
        await repository.set_client_organisation(
            db, session_id, client.client_id, UUID(org) if org else None
        )

    return write


async def nonce_seen(db: AsyncSession, client_id: str, nonce: str) -> bool:
    """Whether ``client_id`` already had an id_token issued for ``nonce`` (a replay)."""
    return await repository.nonce_seen(db, client_id, nonce)


# --- eID login brokered to the upstream provider (R-LOGIN-1)


async def begin_upstream_login(db: AsyncSession, attempt: dict[str, Any], return_to: str) -> None:
    """Remember a pending eID login (state, nonce, PKCE verifier) until its callback."""
    await repository.insert_upstream_login(
        db, {**attempt, "return_to": return_to, "created_at": datetime.now(UTC)}
    )


async def take_upstream_login(db: AsyncSession, state: str) -> Any | None:
    """The pending eID login of ``state``, once, if it is recent (a replayed or
    stale callback finds nothing)."""
    return await repository.take_upstream_login(db, state)


async def principal_of(
    db: AsyncSession,
    cache: ClaimsCache,
    clients: dict[str, Client],
    session_id: str,
    client_id: str,
) -> Principal | None:
    """The principal of a live session for ``client_id``, else None."""
    session_row = await repository.session_by_id(db, session_id)
    client = clients.get(client_id)
    if session_row is None or client is None or not is_live(session_row):
        return None
    principal, _ = await principal_for(db, cache, session_row, client)
    return principal


# --- active organisation and application switching


async def change_organisation(
    db: AsyncSession,
    cache: ClaimsCache,
    *,
    session_id: str,
    client: Client,
    user_id: UUID,
    organisation_id: UUID,
) -> UserSnapshot:
    """Change organisation (Organisatie wijzigen) in one application (R-SSO-2)."""
    session_row = await repository.session_by_id(db, session_id)
    if session_row is None or not is_live(session_row) or session_row.user_id != user_id:
        raise Unauthenticated("session_ended", "The session has ended; log in again.")
    snapshot = await cache.get(db, user_id)
    if not snapshot.is_member(organisation_id):
        raise Forbidden(
            "not_a_member",
            "You are not a member of this organisation.",
            field="organisation_id",
        )
    await repository.set_client_organisation(db, session_id, client.client_id, organisation_id)
    await repository.set_session_organisation(db, session_id, organisation_id)
    return snapshot


Outcome = Literal["same_organisation", "default_organisation", "anonymous"]


@dataclass(frozen=True)
class Switch:
    outcome: Outcome
    organisation_id: UUID | None
    location: str


async def switch_application(
    db: AsyncSession,
    cache: ClaimsCache,
    session_row: Any | None,
    *,
    source: Client | None,
    target: Client,
) -> Switch:
    """Move to ``target`` (R-SSO-3):

    1. a role in the target application in the active organisation -> same organisation;
    2. else a role there in the default organisation -> the default becomes active;
    3. else the target application's anonymous home page.
    """
    if session_row is None:
        return Switch("anonymous", None, target.config.home_url)
    snapshot = await cache.get(db, session_row.user_id)
    if source is not None:
        found, active = await repository.client_organisation(db, session_row.id, source.client_id)
        if not found:
            active = session_row.active_organisation_id
    else:
        active = session_row.active_organisation_id
    active = snapshot.starting_organisation(active)
    if active is not None and snapshot.roles_in(active, target.application):
        await repository.set_client_organisation(db, session_row.id, target.client_id, active)
        return Switch("same_organisation", active, target.config.login_url)
    default = snapshot.default_organisation_id
    if snapshot.is_member(default) and snapshot.roles_in(default, target.application):
        await repository.set_client_organisation(db, session_row.id, target.client_id, default)
        await repository.set_session_organisation(db, session_row.id, default)
        return Switch("default_organisation", default, target.config.login_url)
    return Switch("anonymous", None, target.config.home_url)


def switch_token(session_row: Any) -> str:
    """The synchronizer token of the application switch (R-SEC-5), bound to the SSO
    session: an HMAC keyed by the hash of the session's cookie, a secret only the
    browser (in clear) and the edge's database (hashed) hold. The applications get
    it with the top bar (a bearer call of their back end) and post it with the
    switch; a page elsewhere cannot know it, and no new state is kept for it."""
    key = bytes.fromhex(session_row.cookie_hash)
    return hmac.new(key, b"eproc-application-switch", hashlib.sha256).hexdigest()


def switch_token_matches(session_row: Any, given: str) -> bool:
    return hmac.compare_digest(switch_token(session_row), given)


async def session_top_bar(
    db: AsyncSession,
    cache: ClaimsCache,
    clients: dict[str, Client],
    issuer: str,
    *,
    source: Client,
    token_claims: dict[str, Any],
) -> dict[str, Any]:
    """The top bar of ``source`` for the session of ``token_claims``, from what
    the edge knows now: a removed member's organisation is gone, an approval made
    mid-session shows at once. ``claims_current`` says whether the calling token
    still says the same (else the application refreshes it)."""
    session_row = await repository.session_by_id(db, token_claims["sid"])
    if session_row is None or not is_live(session_row):
        raise Unauthenticated("session_ended", "The session has ended; log in again.")
    principal, _ = await principal_for(db, cache, session_row, source)
    current = principal.claims
    snapshot = await cache.get(db, session_row.user_id)
    organisation = UUID(current["org_id"]) if current["org_id"] else None
    return {
        "user": {"name": snapshot.name, "preferred_username": snapshot.username},
        "active_organisation": {
            "id": current["org_id"],
            "name": current["org_name"],
            # Every language's name, so a page in another language than the
            # profile's shows the organisation's own name in it (R-I18N-1).
            "names": snapshot.organisation_names.get(organisation) or {} if organisation else {},
        },
        "default_organisation_id": current["default_org_id"],
        "organisations": [
            {
                "id": str(org),
                "name": snapshot.organisation_name(org),
                "names": snapshot.organisation_names.get(org) or {},
            }
            for org in sorted(snapshot.memberships, key=str)
        ],
        "applications": top_bar(snapshot, clients, issuer, source),
        "claims_current": token_claims.get("claims_version") == current["claims_version"],
        # Posted as ``csrf`` with a switch (each application's ``switch_url``).
        "switch_token": switch_token(session_row),
    }


def top_bar(
    snapshot: UserSnapshot, clients: dict[str, Client], issuer: str, source: Client
) -> list[dict[str, str]]:
    """Applications where the user holds a role in at least one organisation (R-SSO-3)."""
    held = snapshot.applications()
    entries = []
    for client in clients.values():
        if client.application in held:
            entries.append(
                {
                    "application": client.application,
                    "client_id": client.client_id,
                    "name": client.config.name,
                    "switch_url": (
                        f"{issuer}/switch?from={source.client_id}&to={client.client_id}"
                    ),
                }
            )
    return entries
