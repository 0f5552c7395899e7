"""Event handlers of the identity service: translate an event into a use case."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipGranted, MembershipRevoked, MembershipRolesChanged
from eproc_identity.service import memberships
from eproc_runtime.consumer import Handler


async def on_membership_granted(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipGranted = envelope.data
    await memberships.member_has_roles(session, data.user_id, data.organisation_id, data.roles)


async def on_membership_roles_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipRolesChanged = envelope.data
    await memberships.member_has_roles(session, data.user_id, data.organisation_id, data.roles)


async def on_membership_revoked(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipRevoked = envelope.data
    await memberships.member_left(session, data.user_id, data.organisation_id)


HANDLERS: dict[str, Handler] = {
    MembershipGranted.EVENT_TYPE: on_membership_granted,
    MembershipRolesChanged.EVENT_TYPE: on_membership_roles_changed,
    MembershipRevoked.EVENT_TYPE: on_membership_revoked,
}
