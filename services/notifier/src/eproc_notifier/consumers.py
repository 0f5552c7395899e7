"""Event handlers of the notifier: each turns an event into a use-case call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    OrganisationUpdated,
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestRejected,
    RequestReminderDue,
    RequestSubmitted,
    UserProfileChanged,
    UserRegistered,
)
from eproc_notifier.service import Notifications
from eproc_runtime.consumer import Handler


def handlers(notifications: Notifications) -> dict[str, Handler]:
    """The handlers of every event the notifier consumes, keyed by event type."""

    async def user(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data: UserRegistered | UserProfileChanged = envelope.data
        await notifications.record_user(
            session,
            data.user_id,
            email=data.email,
            language=str(data.language),
            given_name=data.given_name,
            family_name=data.family_name,
        )

    async def roles(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data: MembershipGranted | MembershipRolesChanged = envelope.data
        await notifications.record_roles(session, data.organisation_id, data.user_id, data.roles)

    async def revoked(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data: MembershipRevoked = envelope.data
        await notifications.record_roles(session, data.organisation_id, data.user_id, [])

    async def organisation(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data: OrganisationRegistered | OrganisationUpdated = envelope.data
        await notifications.record_organisation(
            session, data.organisation_id, data.names.model_dump()
        )

    async def request(session: AsyncSession, envelope: Envelope[Any]) -> None:
        await notifications.request_event(session, envelope)

    return {
        UserRegistered.EVENT_TYPE: user,
        UserProfileChanged.EVENT_TYPE: user,
        MembershipGranted.EVENT_TYPE: roles,
        MembershipRolesChanged.EVENT_TYPE: roles,
        MembershipRevoked.EVENT_TYPE: revoked,
        OrganisationRegistered.EVENT_TYPE: organisation,
        OrganisationUpdated.EVENT_TYPE: organisation,
        **{
            event.EVENT_TYPE: request
            for event in (
                RequestSubmitted,
                RequestApproved,
                RequestRejected,
                RequestCompleted,
                RequestFailed,
                RequestReminderDue,
                RequestOrphaned,
            )
        },
    }
