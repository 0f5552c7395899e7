"""The claims projection: who a user is and what they may do, as the edge knows it
from events (R-SSO-4).

``UserSnapshot`` is everything a token needs about one user; it is read from
the projection tables and kept in an in-memory cache that the event consumer
invalidates (by bumping the user's projection version with each change), so
the token path never calls another service and a membership change shows in
the next token.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import events as ev
from eproc_contracts.common import name_in_language
from eproc_edge import repository
from eproc_runtime.db import utc


@dataclass(frozen=True)
class UserSnapshot:
    """One user's profile, memberships and default organisation."""

    user_id: UUID
    username: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    language: str = "nl"
    default_organisation_id: UUID | None = None
    # organisation id -> {(application, role)}
    memberships: dict[UUID, frozenset[tuple[str, str]]] = field(default_factory=dict)
    organisation_names: dict[UUID, dict[str, str]] = field(default_factory=dict)
    # The projection version it was read at: a token's ``claims_version``, which an
    # application compares with the edge's ``ClaimsChanged`` events.
    version: int = 0

    @property
    def name(self) -> str | None:
        parts = [p for p in (self.given_name, self.family_name) if p]
        return " ".join(parts) or None

    def is_member(self, organisation_id: UUID | None) -> bool:
        return organisation_id is not None and organisation_id in self.memberships

    def roles_in(self, organisation_id: UUID | None, application: str) -> list[str]:
        """The user's roles for ``application`` in one organisation only."""
        if organisation_id is None:
            return []
        grants = self.memberships.get(organisation_id, frozenset())
        return sorted(role for app, role in grants if app == application)

    def applications(self) -> set[str]:
        """Applications where the user holds a role in at least one organisation."""
        return {app for grants in self.memberships.values() for app, _ in grants}

    def organisation_name(self, organisation_id: UUID | None) -> str | None:
        if organisation_id is None:
            return None
        return name_in_language(self.organisation_names.get(organisation_id), self.language)

    def starting_organisation(self, preferred: UUID | None) -> UUID | None:
        """``preferred`` while the user is still a member of it, else the default
        organisation (R-SSO-2), else none."""
        if self.is_member(preferred):
            return preferred
        if self.is_member(self.default_organisation_id):
            return self.default_organisation_id
        return None


async def load_snapshot(session: AsyncSession, user_id: UUID) -> UserSnapshot:
    """Read one user's snapshot from the projection."""
    memberships = await repository.current_memberships(session, user_id)
    return UserSnapshot(
        user_id=user_id,
        default_organisation_id=await repository.default_organisation_of(session, user_id),
        memberships=memberships,
        organisation_names=await repository.organisation_names(session, list(memberships)),
        **(await repository.projected_profile(session, user_id) or {}),
    )


# --- keeping the projection: one use case per kind of event (see consumers.py)
#
# Membership events are ordered per user (the partition key), and each row remembers
# the time of the last event applied to it, so that a late, older event can never
# bring back a revoked membership. Every change bumps the user's projection version
# in the same transaction: that is what invalidates the claims cache of every edge
# instance (ClaimsCache below).


async def user_changed(
    session: AsyncSession, event: ev.UserRegistered | ev.UserProfileChanged
) -> None:
    profile = {
        "given_name": event.given_name,
        "family_name": event.family_name,
        "email": event.email,
        "language": str(event.language),
    }
    username = event.username if isinstance(event, ev.UserRegistered) else None
    await repository.save_user(session, event.user_id, profile, username=username)
    await repository.bump_projection_version(session, event.user_id)


async def organisation_changed(
    session: AsyncSession, event: ev.OrganisationRegistered | ev.OrganisationUpdated
) -> None:
    names = event.names.model_dump(exclude_none=True)
    await repository.save_organisation_names(session, event.organisation_id, names)
    for user_id in await repository.members_of(session, event.organisation_id):
        await repository.bump_projection_version(session, user_id)


async def membership_changed(
    session: AsyncSession,
    event: ev.MembershipGranted | ev.MembershipRolesChanged | ev.MembershipRevoked,
    occurred_at: datetime,
) -> bool:
    """Whether the event changed the projection."""
    occurred = utc(occurred_at)
    last = await repository.membership_changed_at(session, event.user_id, event.organisation_id)
    if last is not None and last > occurred:
        return False  # an older event delivered late changes nothing
    revoked = isinstance(event, ev.MembershipRevoked)
    await repository.save_membership(
        session,
        event.user_id,
        event.organisation_id,
        roles=[]
        if isinstance(event, ev.MembershipRevoked)
        else [r.model_dump() for r in event.roles],
        revoked=revoked,
        at=occurred,
    )
    if isinstance(event, ev.MembershipGranted) and event.default:
        # The whole approval in one event: the next token has both at once.
        await repository.save_default_organisation(session, event.user_id, event.organisation_id)
    await repository.bump_projection_version(session, event.user_id)
    return True


async def default_organisation_changed(
    session: AsyncSession, event: ev.DefaultOrganisationChanged
) -> bool:
    """A no-op when the grant already set it (no needless cache invalidation)."""
    if await repository.save_default_organisation(session, event.user_id, event.organisation_id):
        await repository.bump_projection_version(session, event.user_id)
        return True
    return False


class ClaimsCache:
    """A bounded in-memory cache of snapshots, kept honest by the projection's
    per-user version.

    The consumer bumps ``projection_version`` in the same transaction as every
    change it makes for a user; a read compares that version (one primary-key
    read) with the cached snapshot's and reloads when they differ. So the next
    token reflects a membership change whichever edge instance consumed it.
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: OrderedDict[UUID, tuple[int, UserSnapshot]] = OrderedDict()
        self._max = max_entries

    async def get(self, session: AsyncSession, user_id: UUID) -> UserSnapshot:
        version = await repository.projection_version_of(session, user_id)
        return await self.snapshot(session, user_id, version)

    async def snapshot(self, session: AsyncSession, user_id: UUID, version: int) -> UserSnapshot:
        """The snapshot at ``version``, read by the caller (the refresh statement
        reads it with the rotation): no query when the cached one is current."""
        cached = self._entries.get(user_id)
        if cached is not None and cached[0] == version:
            self._entries.move_to_end(user_id)
            return cached[1]
        # Read after the version: a change committed in between makes the next
        # read reload again, never serve an older snapshot.
        snapshot = replace(await load_snapshot(session, user_id), version=version)
        self._entries[user_id] = (version, snapshot)
        self._entries.move_to_end(user_id)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return snapshot
