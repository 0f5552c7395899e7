"""The projection of memberships this service authorises Superusers with.

The organisations service owns memberships; we keep, per (user, organisation),
whether the user is a member and whether they hold the Superuser role of the
user-management application (R-SU-1), fed by ``org.membership.v1``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import MembershipGranted, MembershipRevoked, MembershipRolesChanged
from eproc_contracts.roles import holds_superuser
from eproc_identity.repository import Members


async def member_has_roles(
    session: AsyncSession, event: MembershipGranted | MembershipRolesChanged
) -> None:
    """The member's roles are now exactly the event's (granted or changed)."""
    await Members(session).put(
        event.user_id, event.organisation_id, is_superuser=holds_superuser(event.roles)
    )


async def member_left(session: AsyncSession, event: MembershipRevoked) -> None:
    await Members(session).remove(event.user_id, event.organisation_id)
