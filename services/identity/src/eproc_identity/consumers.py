"""Event handlers of the identity service: translate an event into a use case."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipGranted, MembershipRevoked, MembershipRolesChanged
from eproc_identity.service import memberships
from eproc_runtime.consumer import EventHandlers

HANDLERS = EventHandlers()


async def on_member_has_roles(
    session: AsyncSession,
    event: MembershipGranted | MembershipRolesChanged,
    envelope: Envelope[Any],
) -> None:
    await memberships.member_has_roles(session, event)


HANDLERS.add(MembershipGranted, on_member_has_roles)
HANDLERS.add(MembershipRolesChanged, on_member_has_roles)


@HANDLERS.on(MembershipRevoked)
async def on_membership_revoked(
    session: AsyncSession, event: MembershipRevoked, envelope: Envelope[Any]
) -> None:
    await memberships.member_left(session, event)
