"""Event handlers: each organisations event becomes a use-case call of
:mod:`eproc_requests.service.saga`, each identity event an update of who asks
(idempotency, retries and dead-lettering
are the runtime's :class:`~eproc_runtime.consumer.EventConsumer`'s)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    MembershipChangeRefused,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    UserProfileChanged,
    UserRegistered,
)
from eproc_requests.repository import RequesterRepository, RequestRepository
from eproc_requests.service import saga
from eproc_runtime.consumer import Handler


async def on_membership_granted(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipGranted = envelope.data
    await saga.project_membership(
        session,
        envelope,
        user_id=data.user_id,
        organisation_id=data.organisation_id,
        roles=data.roles,
    )
    if data.request_id is not None:
        await saga.complete_request(session, envelope, data.request_id)


async def on_membership_roles_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipRolesChanged = envelope.data
    await saga.project_membership(
        session,
        envelope,
        user_id=data.user_id,
        organisation_id=data.organisation_id,
        roles=data.roles,
    )
    if data.request_id is not None:
        await saga.complete_request(session, envelope, data.request_id)


async def on_membership_revoked(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipRevoked = envelope.data
    await saga.project_membership(
        session, envelope, user_id=data.user_id, organisation_id=data.organisation_id, roles=None
    )
    if data.request_id is not None:
        await saga.complete_request(session, envelope, data.request_id)


async def on_membership_change_refused(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: MembershipChangeRefused = envelope.data
    await saga.fail_request(session, envelope, data.request_id, data.reason, data.detail)


async def on_organisation_registered(session: AsyncSession, envelope: Envelope[Any]) -> None:
    data: OrganisationRegistered = envelope.data
    row = await RequestRepository(session).by_proposed_organisation(data.organisation_id)
    if row is not None:
        await saga.complete_request(session, envelope, row.id)


async def on_user(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Registered or edited: the name and address shown on the user's requests."""
    data: UserRegistered | UserProfileChanged = envelope.data
    await RequesterRepository(session).put(
        data.user_id,
        given_name=data.given_name,
        family_name=data.family_name,
        email=data.email,
        at=envelope.occurred_at,
    )


HANDLERS: dict[str, Handler] = {
    UserRegistered.EVENT_TYPE: on_user,
    UserProfileChanged.EVENT_TYPE: on_user,
    MembershipGranted.EVENT_TYPE: on_membership_granted,
    MembershipRolesChanged.EVENT_TYPE: on_membership_roles_changed,
    MembershipRevoked.EVENT_TYPE: on_membership_revoked,
    MembershipChangeRefused.EVENT_TYPE: on_membership_change_refused,
    OrganisationRegistered.EVENT_TYPE: on_organisation_registered,
}
