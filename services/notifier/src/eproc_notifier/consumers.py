"""Event handlers of the notifier, by event class: each turns an event into a use-case call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import (
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    OrganisationUpdated,
    PasswordResetRequested,
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestRejected,
    RequestReminderDue,
    RequestSubmitted,
    RequestWithdrawn,
    UserProfileChanged,
    UserRegistered,
)
from eproc_notifier.service import Notifications
from eproc_runtime.consumer import EventHandlers

REQUEST_EVENTS = (
    RequestSubmitted,
    RequestApproved,
    RequestRejected,
    RequestCompleted,
    RequestFailed,
    RequestReminderDue,
    RequestOrphaned,
    RequestWithdrawn,
)


def handlers(notifications: Notifications) -> EventHandlers:
    """The handlers of every event the notifier consumes, by event class."""
    registry = EventHandlers()

    async def user(
        session: AsyncSession, event: UserRegistered | UserProfileChanged, envelope: Envelope[Any]
    ) -> None:
        await notifications.record_user(
            session,
            event.user_id,
            email=event.email,
            language=str(event.language),
            given_name=event.given_name,
            family_name=event.family_name,
        )

    async def roles(
        session: AsyncSession,
        event: MembershipGranted | MembershipRolesChanged,
        envelope: Envelope[Any],
    ) -> None:
        await notifications.record_roles(session, event.organisation_id, event.user_id, event.roles)
        await notifications.membership_changed(session, envelope)

    @registry.on(MembershipRevoked)
    async def revoked(
        session: AsyncSession, event: MembershipRevoked, envelope: Envelope[Any]
    ) -> None:
        await notifications.record_roles(session, event.organisation_id, event.user_id, [])
        await notifications.membership_changed(session, envelope)

    async def organisation(
        session: AsyncSession,
        event: OrganisationRegistered | OrganisationUpdated,
        envelope: Envelope[Any],
    ) -> None:
        await notifications.record_organisation(
            session, event.organisation_id, event.names.model_dump()
        )

    @registry.on(PasswordResetRequested)
    async def password_reset(
        session: AsyncSession, event: PasswordResetRequested, envelope: Envelope[Any]
    ) -> None:
        await notifications.password_reset_requested(session, envelope)

    async def request(session: AsyncSession, event: Payload, envelope: Envelope[Any]) -> None:
        await notifications.request_event(session, envelope)

    registry.add(UserRegistered, user)
    registry.add(UserProfileChanged, user)
    registry.add(MembershipGranted, roles)
    registry.add(MembershipRolesChanged, roles)
    registry.add(OrganisationRegistered, organisation)
    registry.add(OrganisationUpdated, organisation)
    for event in REQUEST_EVENTS:
        registry.add(event, request)
    return registry
