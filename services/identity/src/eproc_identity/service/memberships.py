"""The projection of memberships this service authorises Superusers with.

The organisations service owns memberships; we keep, per (user, organisation),
whether the user is a member and whether they hold the Superuser role of the
user-management application (R-SU-1), fed by ``org.membership.v1``.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import holds_superuser
from eproc_identity.repository import Members


async def member_has_roles(
    session: AsyncSession, user_id: UUID, organisation_id: UUID, roles: Iterable[RoleGrant]
) -> None:
    """The member's roles are now exactly ``roles`` (granted or changed)."""
    await Members(session).put(user_id, organisation_id, is_superuser=holds_superuser(roles))


async def member_left(session: AsyncSession, user_id: UUID, organisation_id: UUID) -> None:
    await Members(session).remove(user_id, organisation_id)
