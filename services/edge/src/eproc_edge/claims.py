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
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import name_in_language
from eproc_edge.models import (
    projected_default_organisation,
    projected_membership,
    projected_organisation,
    projected_user,
    projection_version,
)


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
    """Read one user's snapshot from the projection tables."""
    user = (
        await session.execute(select(projected_user).where(projected_user.c.user_id == user_id))
    ).first()
    default = await session.scalar(
        select(projected_default_organisation.c.organisation_id).where(
            projected_default_organisation.c.user_id == user_id
        )
    )
    rows = (
        await session.execute(
            select(projected_membership.c.organisation_id, projected_membership.c.roles).where(
                projected_membership.c.user_id == user_id,
                projected_membership.c.revoked.is_(False),
            )
        )
    ).all()
    memberships = {
        r.organisation_id: frozenset((g["application"], g["role"]) for g in r.roles) for r in rows
    }
    names: dict[UUID, dict[str, str]] = {}
    if memberships:
        org_rows = (
            await session.execute(
                select(projected_organisation).where(
                    projected_organisation.c.organisation_id.in_(list(memberships))
                )
            )
        ).all()
        names = {r.organisation_id: dict(r.names) for r in org_rows}
    profile: dict[str, Any] = {}
    if user is not None:
        profile = {
            "username": user.username,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "language": user.language,
        }
    return UserSnapshot(
        user_id=user_id,
        default_organisation_id=default,
        memberships=memberships,
        organisation_names=names,
        **profile,
    )


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
        version = await session.scalar(
            select(projection_version.c.version).where(projection_version.c.user_id == user_id)
        )
        version = int(version or 0)
        cached = self._entries.get(user_id)
        if cached is not None and cached[0] == version:
            self._entries.move_to_end(user_id)
            return cached[1]
        # Read after the version: a change committed in between makes the next
        # read reload again, never serve an older snapshot.
        snapshot = await load_snapshot(session, user_id)
        self._entries[user_id] = (version, snapshot)
        self._entries.move_to_end(user_id)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return snapshot
